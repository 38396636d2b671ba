#!/usr/bin/env node
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

await execute({ dir: import.meta.url });
