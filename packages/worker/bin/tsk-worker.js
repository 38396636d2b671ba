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
// The worker has stopped and closed what it opened; a library's leftover timer (BullMQ waits up to a few
// seconds on a connection already dropped when Redis went away) must not keep the process past that.
setTimeout(() => process.exit(), 1000).unref();
