import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newTaskId } from '../common/ids.js';
import { DEFAULT_BASE_IMAGE, LABEL_MANAGED, LABEL_TASK, LABEL_WORKER } from '../docker/index.js';
import { createDocker } from '../docker/docker-client.js';
import { connectRedis, TaskQueue } from '../queue/index.js';
import { createSigningKey, signTask, taskSigner, type SigningKey } from '../signing/index.js';
import { startLocalRedis, type LocalRedis } from '../test-utils/local-redis.js';
import { taskSpecFixture } from '../test-utils/task-spec-fixture.js';
import { LostWorkerReaper } from './lost-worker-reaper.js';
import type { WorkerEvent } from './worker-events.js';

// What a task leaves when the Docker engine went away under it (restarted): its sandbox created but
// never started or removed, and its workspace volume. The worker that ran it is alive; once the engine
// answers again its sweep removes them, for tasks the queue has ended and it no longer runs, and nothing
// of a task still queued or running here, or of another worker. Real Docker, real queue on a local
// redis-server.
const docker = createDocker();
const worker = `w-reap-${process.pid}`;
let redis: LocalRedis;
let connection: Awaited<ReturnType<typeof connectRedis>>;
let root: string;
let key: SigningKey;
const made: { containers: string[]; volumes: string[] } = { containers: [], volumes: [] };

beforeAll(async () => {
  redis = await startLocalRedis();
  connection = await connectRedis({ url: redis.url, purpose: 'worker' });
  root = realpathSync(mkdtempSync(join(tmpdir(), 'tsk-reaper-')));
  key = await createSigningKey(join(root, 'key'), { name: 'owner' });
});

afterAll(async () => {
  for (const id of made.containers) await docker.getContainer(id).remove({ force: true, v: true }).catch(() => undefined);
  for (const name of made.volumes) await docker.getVolume(name).remove().catch(() => undefined);
  connection?.disconnect();
  await redis?.stop();
  if (root) rmSync(root, { recursive: true, force: true });
});

async function queuedTask(queue: TaskQueue): Promise<string> {
  const id = newTaskId();
  const spec = taskSpecFixture({
    id,
    repoPath: root,
    source: { kind: 'local', repoPath: root, ref: `refs/tsk/snapshots/${id}`, commit: 'b'.repeat(40) },
    branch: `tsk/generic/demo/${id}`,
    createdAt: new Date().toISOString(),
    signer: taskSigner(key),
  });
  await queue.add(signTask(spec, key));
  return id;
}

/** A sandbox as the runner creates it (labelled, never started) and a workspace volume, of `task` on `owner`. */
async function leftovers(task: string, owner: string): Promise<{ container: string; volume: string }> {
  const labels = { [LABEL_MANAGED]: 'true', [LABEL_TASK]: task, [LABEL_WORKER]: owner };
  const container = await docker.createContainer({ Image: DEFAULT_BASE_IMAGE, Cmd: ['true'], Labels: labels, HostConfig: { NetworkMode: 'none' } });
  made.containers.push(container.id);
  const volume = `tsk-reaper-test-${task}-${owner.length}`;
  await docker.createVolume({ Name: volume, Labels: { ...labels, 'tsk.role': 'workspace' } });
  made.volumes.push(volume);
  return { container: container.id, volume };
}

const containerExists = (id: string) => docker.getContainer(id).inspect().then(() => true, () => false);
const volumeExists = (name: string) => docker.getVolume(name).inspect().then(() => true, () => false);

describe('LostWorkerReaper: what an engine restart left of a live worker’s tasks (real Docker, real queue)', () => {
  it('removes the sandbox and workspace volume of its own ended tasks, and nothing of open tasks or of others', async () => {
    const queue = new TaskQueue({ connection, namespace: `reap${process.pid}` });
    const [ended, open, runningHere, othersEnded] = [await queuedTask(queue), await queuedTask(queue), await queuedTask(queue), await queuedTask(queue)];
    await queue.cancel(ended);
    await queue.cancel(othersEnded);
    await queue.cancel(runningHere); // ended in the queue, yet its runner here still has it (a thawed worker)
    const left = {
      ended: await leftovers(ended, worker),
      open: await leftovers(open, worker),
      runningHere: await leftovers(runningHere, worker),
      // Another live worker's: its own sweep decides.
      others: await leftovers(othersEnded, `${worker}-other`),
    };
    const events: WorkerEvent[] = [];
    const reaper = new LostWorkerReaper({
      docker,
      queue: queue.forWorker(),
      worker,
      dataDir: join(root, 'data'),
      requeueLost: false,
      settleMs: 60_000,
      onEvent: (event) => events.push(event),
      runningHere: (task) => task === runningHere,
    });
    await reaper.sweep();

    expect(await containerExists(left.ended.container)).toBe(false);
    expect(await volumeExists(left.ended.volume)).toBe(false);
    for (const kept of [left.open, left.runningHere, left.others]) {
      expect(await containerExists(kept.container)).toBe(true);
      expect(await volumeExists(kept.volume)).toBe(true);
    }
    expect(events).toContainEqual(expect.objectContaining({ kind: 'reaped', what: 'container', worker }));
  });
});
