import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as queueIndex from './index.js';
import { TaskQueue } from './task-queue.js';
import { WorkerQueue } from './worker-queue.js';

/**
 * The queue's boundary: workers and commands talk to the queue only through `queue/index.js` — `TaskQueue`
 * for commands, `WorkerQueue` for workers — never to its records, chains, key names, BullMQ objects or
 * Redis connection. One exemption: `test-utils/queue-internals.ts`, the door for tests that act on Redis
 * as an attacker or observer would.
 */

const QUEUE_DIR = dirname(fileURLToPath(import.meta.url));
const PACKAGES = resolve(QUEUE_DIR, '../../..');
const INDEX = join(QUEUE_DIR, 'index.ts');
const TEST_DOOR = resolve(QUEUE_DIR, '../test-utils/queue-internals.ts');

/** What stays inside `queue/`: the index must not export any of it, under any name. */
const INTERNALS = [
  'QueueCore', 'TaskStore', 'TaskChain', 'QueueKeys', 'WorkerRegistry', 'LostWorkers', 'consumeJobs', 'bullConnection',
  'taskLogWriter', 'QUEUE_NAME', 'DEFAULT_NAMESPACE', 'LOG_MAXLEN', 'JobEnqueuer', 'ClaimResult', 'parseWorkerReport',
  'loadViews', 'CLAIM', 'FINISH', 'HAND_BACK', 'WORKER_BEAT', 'TRANSITION', 'RECLAIM', 'REQUEST_CANCEL', 'ATTACH_CHILD',
];

/** Every TypeScript source file of every package (not `dist`, not `node_modules`). */
function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.name === 'node_modules' || entry.name === 'dist' || entry.name.startsWith('.')) return [];
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** The module specifiers a file imports or re-exports from (static, side-effect and dynamic imports). */
function importedSpecifiers(source: string): string[] {
  const patterns = [/\b(?:import|export)\s[^'";]*?\bfrom\s*['"]([^'"]+)['"]/g, /\bimport\s*['"]([^'"]+)['"]/g, /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g];
  return patterns.flatMap((pattern) => [...source.matchAll(pattern)].map((match) => match[1] ?? ''));
}

/** Where a relative specifier leads, as a `.ts` source path; undefined for a package import. */
function resolveSpecifier(from: string, specifier: string): string | undefined {
  if (!specifier.startsWith('.')) return undefined;
  return resolve(dirname(from), specifier).replace(/\.js$/, '.ts');
}

/** Why `file` breaks the boundary, one line per import; none when it keeps it. */
function boundaryViolations(file: string, source: string): string[] {
  const inQueue = file.startsWith(QUEUE_DIR + sep);
  if (inQueue || file === TEST_DOOR) return [];
  const shown = relative(PACKAGES, file);
  return importedSpecifiers(source).flatMap((specifier) => {
    if (specifier === 'bullmq' || specifier.startsWith('bullmq/')) return [`${shown} imports bullmq (BullMQ stays behind queue/index.js)`];
    const target = resolveSpecifier(file, specifier);
    if (target === undefined || !target.startsWith(QUEUE_DIR + sep) || target === INDEX) return [];
    return [`${shown} imports ${specifier}: only queue/index.js may be imported from outside queue/`];
  });
}

describe('the queue boundary', () => {
  it('nothing outside engine/src/queue imports its internals or BullMQ', () => {
    const violations = sourceFiles(PACKAGES).flatMap((file) => boundaryViolations(file, readFileSync(file, 'utf8')));
    expect(violations).toEqual([]);
  });

  it('the check catches a reach into the internals, from the engine and from another package', () => {
    const worker = join(PACKAGES, 'engine/src/worker/some-module.ts');
    expect(boundaryViolations(worker, "import { TaskStore } from '../queue/task-store.js';")).toEqual([
      'engine/src/worker/some-module.ts imports ../queue/task-store.js: only queue/index.js may be imported from outside queue/',
    ]);
    expect(boundaryViolations(worker, "import type {\n  QueueKeys,\n} from '../queue/queue-keys.js';")).toHaveLength(1);
    expect(boundaryViolations(worker, "export { x } from '../queue/lua-scripts.js';")).toHaveLength(1);
    expect(boundaryViolations(worker, "const m = await import('../queue/task-chain.js');")).toHaveLength(1);
    expect(boundaryViolations(worker, "import { Worker } from 'bullmq';")).toEqual(['engine/src/worker/some-module.ts imports bullmq (BullMQ stays behind queue/index.js)']);
    const cli = join(PACKAGES, 'producer-cli/src/commands/x.test.ts');
    expect(boundaryViolations(cli, "import { QueueKeys } from '../../../engine/src/queue/queue-keys.js';")).toHaveLength(1);
    expect(boundaryViolations(worker, "import { TaskQueue, type WorkerQueue } from '../queue/index.js';")).toEqual([]);
    expect(boundaryViolations(cli, "import { TaskQueue } from '@tsk/engine';")).toEqual([]);
    expect(boundaryViolations(join(QUEUE_DIR, 'task-queue.ts'), "import { TaskStore } from './task-store.js';")).toEqual([]);
  });

  it('the index exports none of the internals', () => {
    expect(Object.keys(queueIndex).filter((name) => INTERNALS.includes(name))).toEqual([]);
    // Type-only exports leave no trace at run time: the index's text must not name them either.
    const index = readFileSync(INDEX, 'utf8');
    expect(INTERNALS.filter((name) => new RegExp(`\\b${name}\\b`).test(index.replace(/^\s*\/\/.*$/gm, '')))).toEqual([]);
  });

  it('the BullMQ queue leaves the door once: TaskQueue.boardQueue, for the read-only board', () => {
    const faces = ['task-queue.ts', 'worker-queue.ts'].map((file) => readFileSync(join(QUEUE_DIR, file), 'utf8')).join('\n');
    // A member that hands out the BullMQ queue itself (not a call on it, not a getter passed within queue/).
    const handedOut = [...faces.matchAll(/^ {2}(?:async )?(\w+)\([^)]*\)[^{\n]*\{\n {4}return (?:await )?this\.#core\.bull;$/gm)].map((match) => match[1]);
    expect(handedOut).toEqual(['boardQueue']);
    expect(faces.match(/return (?:await )?this\.#core\.bull;/g)).toHaveLength(1);
  });

  it('the two faces of the queue hold their parts privately', () => {
    for (const face of [TaskQueue, WorkerQueue]) {
      const members = Object.getOwnPropertyNames(face.prototype);
      expect(members.filter((name) => ['store', 'chain', 'bull', 'keys', 'redis', 'registry', 'core', 'lost'].includes(name))).toEqual([]);
    }
  });
});
