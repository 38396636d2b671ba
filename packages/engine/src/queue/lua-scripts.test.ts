import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { newTaskId } from '../common/ids.js';
import { createSigningKey, signTask, taskSigner, type SigningKey } from '../signing/index.js';
import { startLocalRedis, type LocalRedis } from '../test-utils/local-redis.js';
import { taskSpecFixture } from '../test-utils/task-spec-fixture.js';
import { QueueCore } from './queue-core.js';
import { connectRedis } from './redis-connection.js';

/**
 * The queue's atomic state changes (`lua-scripts.ts`: claim, hand back, delay, finish, transition, attach
 * a child, request a cancel) and the task life cycle they make, on a real local redis-server: Redis is
 * the point here. No Docker, no BullMQ worker.
 */

let redis: LocalRedis;
let connection: Redis;
let key: SigningKey;
let keyDir: string;
const cores: QueueCore[] = [];

beforeAll(async () => {
  redis = await startLocalRedis();
  connection = await connectRedis({ url: redis.url, purpose: 'cli' });
  keyDir = mkdtempSync(join(tmpdir(), 'tsk-lua-key-'));
  key = await createSigningKey(keyDir, { name: 'owner' });
});

afterEach(async () => {
  for (const core of cores.splice(0)) await core.close();
});

afterAll(async () => {
  connection?.disconnect();
  await redis?.stop();
  if (keyDir) rmSync(keyDir, { recursive: true, force: true });
});

let namespaces = 0;
function core(): QueueCore {
  const made = new QueueCore(connection, `lua${process.pid}x${namespaces++}`);
  cores.push(made);
  return made;
}

/** A record as `tsk add` creates it (QUEUED), or WAITING under `parent`. */
async function task(queue: QueueCore, options: { parent?: string } = {}): Promise<string> {
  const id = newTaskId();
  const spec = taskSpecFixture({
    id,
    source: { kind: 'local', repoPath: '/repo', ref: `refs/tsk/snapshots/${id}`, commit: 'b'.repeat(40) },
    branch: `tsk/generic/demo/${id}`,
    parentTaskId: options.parent,
    signer: taskSigner(key),
  });
  if (options.parent === undefined) {
    await queue.store.create(signTask(spec, key), 'QUEUED');
  } else {
    await queue.store.create(signTask(spec, key), 'WAITING');
    await queue.store.attachChild(options.parent, id);
  }
  return id;
}

async function status(queue: QueueCore, id: string): Promise<string | undefined> {
  return (await queue.store.read(id))?.status;
}

const now = () => new Date().toISOString();

describe('CLAIM', () => {
  it('takes a QUEUED task once: RUNNING on that worker, in the running set; the second claim sees it RUNNING', async () => {
    const queue = core();
    const id = await task(queue);
    expect(await queue.store.claim(id, 'w-1', now())).toEqual({ kind: 'ok' });
    expect(await queue.store.read(id)).toMatchObject({ status: 'RUNNING', worker: 'w-1' });
    expect(await queue.store.runningIds()).toEqual([id]);
    expect(await queue.store.claim(id, 'w-2', now())).toEqual({ kind: 'rerun', previousWorker: 'w-1' });
    expect((await queue.store.read(id))?.worker).toBe('w-1');
  });

  it('refuses what is not runnable: missing, ended, WAITING, a cancel pending', async () => {
    const queue = core();
    expect(await queue.store.claim(newTaskId(), 'w-1', now())).toEqual({ kind: 'missing' });
    const ended = await task(queue);
    await queue.chain.finish(ended, { status: 'FAILED', error: 'x' });
    expect(await queue.store.claim(ended, 'w-1', now())).toEqual({ kind: 'not-runnable', status: 'FAILED' });
    const parent = await task(queue);
    const child = await task(queue, { parent });
    expect(await queue.store.claim(child, 'w-1', now())).toEqual({ kind: 'not-runnable', status: 'WAITING' });
    const cancelled = await task(queue);
    expect(await queue.store.requestCancel(cancelled)).toBe('QUEUED');
    expect(await queue.store.claim(cancelled, 'w-1', now())).toEqual({ kind: 'cancel' });
    expect(await status(queue, cancelled)).toBe('QUEUED');
  });

  it('clears the hand-back note and the delay when it takes a task', async () => {
    const queue = core();
    const id = await task(queue);
    await queue.store.handBack(id, 'waiting for a worker with label gpu');
    expect((await queue.store.read(id))?.note).toBe('waiting for a worker with label gpu');
    expect(await queue.store.claim(id, 'w-1', now())).toEqual({ kind: 'ok' });
    expect((await queue.store.read(id))?.note).toBeUndefined();
  });
});

describe('FINISH', () => {
  it('first writer wins, and with ifWorker only the worker running it may end it', async () => {
    const queue = core();
    const id = await task(queue);
    await queue.store.claim(id, 'w-1', now());
    expect(await queue.chain.finish(id, { status: 'FAILED', error: 'not mine' }, { ifWorker: 'w-2' })).toBe(false);
    expect(await status(queue, id)).toBe('RUNNING');
    expect(await queue.chain.finish(id, { status: 'COMPLETE', branch: 'tsk/x', summary: 'done' }, { ifWorker: 'w-1' })).toBe(true);
    expect(await queue.chain.finish(id, { status: 'CANCELLED', error: 'late' })).toBe(false);
    expect(await queue.store.read(id)).toMatchObject({ status: 'COMPLETE', branch: 'tsk/x', summary: 'done', cancelRequested: false });
    expect(await queue.store.runningIds()).toEqual([]);
  });

  it('ends a missing task never: nothing is created', async () => {
    const queue = core();
    const id = newTaskId();
    expect(await queue.chain.finish(id, { status: 'FAILED', error: 'x' })).toBe(false);
    expect(await queue.store.exists(id)).toBe(false);
  });

  it('cascades: a COMPLETE parent queues its WAITING child; a FAILED or CANCELLED one ends the child the same way', async () => {
    const queue = core();
    for (const [parentStatus, childStatus] of [
      ['COMPLETE', 'QUEUED'],
      ['FAILED', 'FAILED'],
      ['CANCELLED', 'CANCELLED'],
    ] as const) {
      const parent = await task(queue);
      const child = await task(queue, { parent });
      expect(await status(queue, child)).toBe('WAITING');
      await queue.store.claim(parent, 'w-1', now());
      await queue.chain.finish(parent, { status: parentStatus, error: parentStatus === 'COMPLETE' ? undefined : 'x' });
      expect(await status(queue, child), `child of a ${parentStatus} parent`).toBe(childStatus);
      expect(await queue.store.waitingIds()).not.toContain(child);
    }
  });

  it('a child attached after its parent ended learns the parent’s status instead of waiting', async () => {
    const queue = core();
    const parent = await task(queue);
    await queue.chain.finish(parent, { status: 'FAILED', error: 'x' });
    expect(await queue.store.attachChild(parent, newTaskId())).toBe('FAILED');
    expect(await queue.store.attachChild(newTaskId(), newTaskId())).toBe('missing');
  });
});

describe('DELAY', () => {
  it('puts the running worker’s task back DELAYED, counted, without a worker; the limit stops it; the larger count wins', async () => {
    const queue = core();
    const id = await task(queue);
    await queue.store.claim(id, 'w-1', now());
    const until = new Date(Date.now() + 60_000).toISOString();
    expect(await queue.store.delay(id, 'w-1', until, 0, 3)).toEqual({ kind: 'ok', delays: 1 });
    expect(await queue.store.read(id)).toMatchObject({ status: 'DELAYED', delayedUntil: until, delays: 1, worker: undefined });
    expect(await queue.store.runningIds()).toEqual([]);
    // The job comes back: claimed again, then the machine's own count (2) is larger than the record's (1).
    expect(await queue.store.claim(id, 'w-1', now())).toEqual({ kind: 'ok' });
    expect((await queue.store.read(id))?.delayedUntil).toBeUndefined();
    expect(await queue.store.delay(id, 'w-1', until, 2, 3)).toEqual({ kind: 'ok', delays: 3 });
    await queue.store.claim(id, 'w-1', now());
    expect(await queue.store.delay(id, 'w-1', until, 0, 3)).toEqual({ kind: 'limit', delays: 3 });
    expect(await status(queue, id)).toBe('RUNNING');
  });

  it('refuses a worker that no longer runs the task, a pending cancel and a missing task', async () => {
    const queue = core();
    const until = now();
    expect(await queue.store.delay(newTaskId(), 'w-1', until, 0, 3)).toEqual({ kind: 'missing' });
    const queued = await task(queue);
    expect(await queue.store.delay(queued, 'w-1', until, 0, 3)).toEqual({ kind: 'moved', status: 'QUEUED' });
    await queue.store.claim(queued, 'w-1', now());
    expect(await queue.store.delay(queued, 'w-2', until, 0, 3)).toEqual({ kind: 'moved', status: 'RUNNING' });
    await queue.store.requestCancel(queued);
    expect(await queue.store.delay(queued, 'w-1', until, 0, 3)).toEqual({ kind: 'cancel' });
  });

  it('a record rewritten to a nonsense count is read as 0', async () => {
    const queue = core();
    const id = await task(queue);
    await queue.store.claim(id, 'w-1', now());
    await connection.hset(queue.keys.task(id), 'delays', '-7.5');
    expect(await queue.store.delay(id, 'w-1', now(), 0, 3)).toEqual({ kind: 'ok', delays: 1 });
  });
});

describe('HAND_BACK', () => {
  it('records the note on a QUEUED task, keeps the last one when given none, and re-queues a DELAYED one', async () => {
    const queue = core();
    const id = await task(queue);
    expect(await queue.store.handBack(id, 'waiting for a worker with label gpu')).toEqual({ kind: 'ok' });
    expect(await queue.store.handBack(id, undefined)).toEqual({ kind: 'ok' });
    expect((await queue.store.read(id))?.note).toBe('waiting for a worker with label gpu');
    await queue.store.claim(id, 'w-1', now());
    await queue.store.delay(id, 'w-1', now(), 0, 3);
    expect(await queue.store.handBack(id, undefined)).toEqual({ kind: 'ok' });
    expect(await queue.store.read(id)).toMatchObject({ status: 'QUEUED', delayedUntil: undefined });
  });

  it('says cancel, the end status, WAITING or missing instead', async () => {
    const queue = core();
    expect(await queue.store.handBack(newTaskId(), undefined)).toEqual({ kind: 'missing' });
    const cancelled = await task(queue);
    await queue.store.requestCancel(cancelled);
    expect(await queue.store.handBack(cancelled, 'note')).toEqual({ kind: 'cancel' });
    expect((await queue.store.read(cancelled))?.note).toBeUndefined();
    const ended = await task(queue);
    await queue.chain.finish(ended, { status: 'COMPLETE' });
    expect(await queue.store.handBack(ended, 'note')).toEqual({ kind: 'not-runnable', status: 'COMPLETE' });
    const child = await task(queue, { parent: await task(queue) });
    expect(await queue.store.handBack(child, 'note')).toEqual({ kind: 'not-runnable', status: 'WAITING' });
  });
});

describe('REQUEST_CANCEL, TRANSITION, RECLAIM', () => {
  it('flags QUEUED, RUNNING and DELAYED tasks only', async () => {
    const queue = core();
    expect(await queue.store.requestCancel(newTaskId())).toBe('missing');
    const ended = await task(queue);
    await queue.chain.finish(ended, { status: 'FAILED', error: 'x' });
    expect(await queue.store.requestCancel(ended)).toBe('FAILED');
    expect((await queue.store.read(ended))?.cancelRequested).toBe(false);
    const running = await task(queue);
    await queue.store.claim(running, 'w-1', now());
    expect(await queue.store.requestCancel(running)).toBe('RUNNING');
    expect(await queue.store.cancelRequested([running, ended])).toEqual(new Set([running]));
  });

  it('moves a task only from the status it is in, keeping the running and waiting sets true', async () => {
    const queue = core();
    const id = await task(queue);
    await queue.store.claim(id, 'w-1', now());
    expect(await queue.store.transition(id, 'QUEUED', 'FAILED')).toBe(false);
    expect(await queue.store.transition(id, 'RUNNING', 'QUEUED')).toBe(true);
    expect(await queue.store.runningIds()).toEqual([]);
    expect(await status(queue, id)).toBe('QUEUED');
  });

  it('takes over a RUNNING task only', async () => {
    const queue = core();
    const id = await task(queue);
    expect(await queue.store.reclaim(id, 'w-2', now())).toBe(false);
    await queue.store.claim(id, 'w-1', now());
    expect(await queue.store.reclaim(id, 'w-2', now())).toBe(true);
    expect((await queue.store.read(id))?.worker).toBe('w-2');
  });
});
