import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectRedis, createSigningKey, createTaskSpec, KeyRing, openSignedJob, seededRandom, silentSink, taskSigner, TaskQueue, type SigningKey } from '@tsk/engine';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { jobsOf, mutations, type Json } from '../../../engine/src/test-utils/job-mutations.js';
import { startLocalRedis, type LocalRedis } from '../../../engine/src/test-utils/local-redis.js';
// The attacker writes jobs and records where tsk keeps them: the one door into the queue's internals.
import { QueueKeys, rawJobQueue } from '../../../engine/src/test-utils/queue-internals.js';
import { startWatched, stopProcess, WORKER_BIN, type WatchedProcess } from '../test-utils/queue-processes.js';
import { makeTskHome, type TskHome } from '../test-utils/run-tsk.js';
import { makeSimpleRepo } from '../test-utils/simple-repo.js';

// Job payload fuzzing with a real worker (issue 12): malformed payloads (job-mutations.ts: fields removed,
// mistyped, oversized or unknown), signed by the worker's owner or not, planted in Redis as tsk writes
// jobs; a real `tsk-worker -q` must refuse each before anything runs — the task FAILED with one line, no
// container, no workspace, no agent started — and then quit. Only payloads `openSignedJob` refuses are
// planted, so nothing here can run a sandbox; the worker needs the Docker engine only to start.
// TSK_FUZZ_JOBS=N (default 40) picks how many.

const DEFAULT_JOBS = 40;

let redis: LocalRedis;
let home: TskHome;
let root: string;
let repo: string;
let owner: SigningKey;
let stranger: SigningKey;
let connection: Redis;
let queue: TaskQueue;
let jobs: ReturnType<typeof rawJobQueue>;
let worker: WatchedProcess | undefined;

beforeAll(async () => {
  redis = await startLocalRedis();
  home = await makeTskHome({ TSK_REDIS_URL: redis.url });
  root = mkdtempSync(join(tmpdir(), 'tsk-fuzz-jobs-'));
  repo = makeSimpleRepo(join(root, 'repo'));
  owner = await createSigningKey(join(home.dir, 'config', 'tsk'), { name: 'owner' });
  stranger = await createSigningKey(join(root, 'stranger'), { name: 'stranger' });
  connection = await connectRedis({ url: redis.url, purpose: 'cli' });
  queue = new TaskQueue({ connection });
  jobs = rawJobQueue(connection);
});

afterAll(async () => {
  if (worker) await stopProcess(worker);
  await queue?.close();
  await jobs?.close();
  connection?.disconnect();
  await redis?.stop();
  await home?.cleanup();
  if (root) rmSync(root, { recursive: true, force: true });
});

/** A record and a job, exactly where tsk keeps them, with any payload at all. */
async function plant(id: string, data: unknown): Promise<void> {
  const keys = new QueueKeys();
  await connection.hset(keys.task(id), { id, status: 'QUEUED', name: 'fuzz', type: 'generic', agent: 'script', stack: 'default', project: 'repo', createdAt: new Date().toISOString(), job: JSON.stringify(data) });
  await connection.zadd(keys.index, Date.now(), id);
  await jobs.add('fuzz', data, { jobId: id });
}

it('a real worker refuses every malformed job before anything runs', async () => {
  const ring = new KeyRing({ name: 'owner', publicKey: owner.publicKey, owner: true });
  const wanted = Number(process.env.TSK_FUZZ_JOBS ?? DEFAULT_JOBS);
  const random = seededRandom(Number(process.env.TSK_FUZZ_SEED ?? 12));
  const planted: { id: string; what: string }[] = [];
  while (planted.length < wanted) {
    // A real spec of the test repository (its own id and snapshot), then one malformed variant of it.
    const spec = await createTaskSpec({ repoPath: repo, prompt: 'true', agent: 'script', env: home.env, log: silentSink, signer: taskSigner(owner) });
    const variants = mutations(JSON.parse(JSON.stringify(spec)) as Json).flatMap((mutation) => jobsOf(mutation.payload, owner, stranger).map((job) => ({ what: `${mutation.id}, ${job.how}`, job: job.job })));
    const variant = variants[Math.floor(random() * variants.length)]!;
    try {
      openSignedJob(variant.job, ring, spec.id);
      continue; // Valid after all (free text, an optional field): it would run; not this test's business.
    } catch {
      // Refused by the rules: the worker must refuse it too, before anything runs.
    }
    await plant(spec.id, variant.job);
    planted.push({ id: spec.id, what: variant.what });
  }
  worker = startWatched(WORKER_BIN, ['-q', '--no-health', '--name', 'fuzz-worker'], home.env, repo);
  const exit = await Promise.race([worker.exited, new Promise((resolve) => setTimeout(() => resolve('timeout'), 180_000))]);
  const output = worker.output();
  const failures: string[] = [];
  if (exit !== 0) failures.push(`the worker did not quit cleanly (${String(exit)}): ${output.slice(-600)}`);
  if (/^\s+at .+:\d+:\d+\)?$/m.test(output)) failures.push('the worker printed a stack trace');
  const dataDir = join(home.dir, 'data', 'tsk');
  for (const { id, what } of planted) {
    const view = await queue.get(id);
    const log = (await queue.readLog(id)).map((entry) => entry.line).join('\n');
    const containers = execFileSync('docker', ['ps', '-aq', '--filter', `label=tsk.task=${id}`], { encoding: 'utf8' }).trim();
    if (view?.status !== 'FAILED') failures.push(`${what}: ${view?.status ?? 'no record'}, not FAILED`);
    else if (!view.error || view.error.includes('\n')) failures.push(`${what}: no one-line reason (${JSON.stringify(view.error?.slice(0, 200))})`);
    if (/Preparing workspace|Starting .* agent/.test(log)) failures.push(`${what}: it started running`);
    if (containers) failures.push(`${what}: a container was made`);
    if (existsSync(join(dataDir, 'tasks')) && readdirSync(join(dataDir, 'tasks')).some((name) => name.includes(id))) failures.push(`${what}: a workspace was made`);
  }
  console.log(`job fuzz (real worker): ${planted.length} malformed jobs planted, ${failures.length} failed`);
  expect(failures, failures.join('\n')).toEqual([]);
}, 600_000);
