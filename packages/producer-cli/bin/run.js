#!/usr/bin/env node
import { fileURLToPath } from 'node:url';
// oclif's subpaths, not its index (which loads all of oclif): less to load before anything is printed.
import { flush } from '@oclif/core/flush';
import { run } from '@oclif/core/run';

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
const root = fileURLToPath(new URL('..', import.meta.url));
const { ensureManifest } = await import('../dist/oclif-manifest.js');
const problem = await ensureManifest(root);
if (problem !== undefined) process.stderr.write(`Warning: ${problem}\n`);

// oclif's `execute`, but an unknown command — or a word too many after one, `tsk list extra` — is a
// mistake like a bad flag: one `Error:` line and exit code 1, as BaseCommand reports every other
// failure (oclif's own is " ›   Error: command list:extra not found" and exit code 2).
// The root is given, not searched for from this file. No user plugins: oclif would otherwise load any
// plugin a package.json in tsk's data dir names (tsk has no plugin manager), and reads that file first.
await run(process.argv.slice(2), { root, userPlugins: false, devPlugins: false })
  .then(() => flush())
  .catch(async (error) => {
    const notFound = /^command (.+) not found$/s.exec(error?.message ?? '');
    // oclif's error printer is loaded only when there is an error to print: a tenth of start-up otherwise.
    if (notFound === null || error?.oclif?.exit !== 2) return (await import('@oclif/core/handle')).handle(error);
    const words = notFound[1].replaceAll(':', ' ').replace(/[\u0000-\u001f\u007f-\u009f]/g, '').slice(0, 200);
    process.stderr.write(`Error: tsk has no command "${words}" (see tsk --help)\n`);
    process.exitCode = 1;
  });
