#!/usr/bin/env node
// One benchmark report: `node bench/run.mjs [--quick] [--check] [--out DIR] [section …]`. See bench/README.md.
import { runBench } from './lib/runner.mjs';

process.exitCode = await runBench(process.argv.slice(2));
