import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/**
 * BullMQ, loaded on first use. Loading it is the largest part of a quick command's start-up (0.1–0.25 s
 * here), and `tsk list` over tasks that have all ended, `tsk logs`, `tsk workers` never need it. Loaded
 * with `require` so it stays synchronous: BullMQ's package is CommonJS (its `main`), the same module an
 * `import` of it would load.
 */
export function bullmq(): typeof import('bullmq') {
  return require('bullmq') as typeof import('bullmq');
}
