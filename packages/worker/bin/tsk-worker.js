#!/usr/bin/env node
import { main } from '../dist/main.js';

// A reader of the worker's output that goes away (a closed terminal, a killed parent) must not end the
// worker before it stops its tasks and removes their containers: output nobody reads is dropped.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error) => {
    // EPIPE: a pipe's reader is gone; EIO: the terminal is.
    if (error.code !== 'EPIPE' && error.code !== 'EIO') throw error;
  });
}

process.exitCode = await main(process.argv.slice(2));
