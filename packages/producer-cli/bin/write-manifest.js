#!/usr/bin/env node
// `npm run build`: write the oclif manifest of the commands just compiled (see src/oclif-manifest.ts).
import { fileURLToPath } from 'node:url';
import { writeManifest } from '../dist/oclif-manifest.js';

await writeManifest(fileURLToPath(new URL('..', import.meta.url)));
