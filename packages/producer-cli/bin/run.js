#!/usr/bin/env node
import { fileURLToPath } from 'node:url';
import { execute } from '@oclif/core';

// Whoever reads tsk's output may go away first (a closed terminal, `| head`, a killed parent). Writing
// then fails (EPIPE, EIO); unhandled, that would end the process before a running task is cancelled and
// its container removed. Output nobody reads is dropped instead.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error) => {
    // EPIPE: a pipe's reader is gone; EIO: the terminal is.
    if (error.code !== 'EPIPE' && error.code !== 'EIO') throw error;
  });
}

// The oclif manifest lets `tsk --version`, `--help` and each command load only what they need; it is
// written again first when it is not the one of this build (src/oclif-manifest.ts).
const { ensureManifest } = await import('../dist/oclif-manifest.js');
const problem = await ensureManifest(fileURLToPath(new URL('..', import.meta.url)));
if (problem !== undefined) process.stderr.write(`Warning: ${problem}\n`);

await execute({ dir: import.meta.url });
