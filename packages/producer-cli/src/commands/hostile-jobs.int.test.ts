import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  assetsRoot,
  connectRedis,
  createSigningKey,
  createTaskSpec,
  planProxyImage,
  signTask,
  silentSink,
  taskSigner,
  TaskQueue,
  type SigningKey,
  type TaskSpec,
  type TaskView,
} from '@tsk/engine';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// Test-only helper shared with the engine's queue tests (one way to start tsk's Redis image).
import { startTestRedis, type TestRedis } from '../../../engine/src/test-utils/redis-container.js';
// The attacker knows where tsk keeps its jobs and records: the one door into the queue's internals.
import { QueueKeys, rawJobQueue } from '../../../engine/src/test-utils/queue-internals.js';
import { startServer, stopProcess, type WatchedProcess } from '../test-utils/queue-processes.js';
import { git } from '../test-utils/repo-state.js';
import { makeTskHome, runTsk, type TskHome } from '../test-utils/run-tsk.js';
import { makeSimpleRepo } from '../test-utils/simple-repo.js';

// The attacker of this file has write access to the queue's Redis and nothing else: it writes jobs and
// task records the way tsk itself does (or rewrites them), signed with a key of its own, a teammate's
// key the worker trusts, or — to show validation holds whoever signs — the worker owner's own key. One
// real worker (`tsk server start`, real Docker, real proxy) serves every case. Traffic goes only to
// loopback, the Docker networks tsk makes, and through the proxy.

const PROJECT = `tsk-hostile-${randomUUID().slice(0, 8)}`;
const SECRET = `npm_${randomUUID().replaceAll('-', '')}`;
const WAIT_MS = 180_000;

let redis: TestRedis;
let home: TskHome;
let root: string;
let repo: string;
let victimRepo: string;
let markers: string;
let owner: SigningKey;
let teammate: SigningKey;
let stranger: SigningKey;
let worker: WatchedProcess;
let connection: Redis;
let queue: TaskQueue;
/** BullMQ's own handle on the queue: what the attacker writes raw jobs with. */
let jobs: ReturnType<typeof rawJobQueue>;
let service: { server: Server; port: number; hits: number };

/** An HTTP service of the worker's host, bound to every address, counting who reaches it. */
async function hostService(): Promise<{ server: Server; port: number; hits: number }> {
  const state = { server: createServer(), port: 0, hits: 0 };
  state.server.on('request', (_request, response) => {
    state.hits += 1;
    response.end('host service\n');
  });
  await new Promise<void>((resolve, reject) => state.server.once('error', reject).listen(0, '0.0.0.0', resolve));
  state.port = (state.server.address() as { port: number }).port;
  return state;
}

/** A spec as `tsk add` makes it in the test repository, signed later by whoever the case says. */
async function specFor(key: SigningKey, prompt: string, name: string): Promise<TaskSpec> {
  return createTaskSpec({ repoPath: repo, name, prompt, agent: 'script', project: PROJECT, env: home.env, log: silentSink, signer: taskSigner(key) });
}

/** Queue a spec signed with `key`, as any holder of that key with Redis access can. */
async function queueSigned(spec: TaskSpec, key: SigningKey = owner): Promise<string> {
  await queue.add(signTask(spec, key));
  return spec.id;
}

/** Write a record and a job by hand, exactly where tsk keeps them, with any payload at all. */
async function plant(id: string, data: unknown, name = 'planted'): Promise<void> {
  const keys = new QueueKeys();
  await connection.hset(keys.task(id), { id, status: 'QUEUED', name, type: 'generic', agent: 'script', stack: 'default', project: PROJECT, createdAt: new Date().toISOString(), job: JSON.stringify(data) });
  await connection.zadd(keys.index, Date.now(), id);
  await jobs.add(name, data, { jobId: id });
}

async function ended(id: string): Promise<TaskView> {
  const [view] = await queue.waitFor([id], { timeoutMs: WAIT_MS });
  if (!view) throw new Error(`no task ${id}`);
  return view;
}

/** Ended FAILED with a refusal, before anything ran: no workspace, no container, no agent line. */
async function expectRefused(id: string, reason: string | RegExp): Promise<TaskView> {
  const view = await ended(id);
  expect(view.status).toBe('FAILED');
  expect(view.error).toMatch(typeof reason === 'string' ? new RegExp(reason.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) : reason);
  const log = (await queue.readLog(id)).map((entry) => entry.line);
  expect(log.some((line) => /Preparing workspace|Starting .* agent/.test(line))).toBe(false);
  // The worker records the refusal, then reports it: its line may follow the record by a moment.
  await worker.waitFor(`${id} refused`, 10_000);
  return view;
}

function markerPath(name: string): string {
  return join(markers, name);
}

function refsOf(path: string): string {
  return git(path, 'for-each-ref', '--format=%(refname) %(objectname)');
}

beforeAll(async () => {
  redis = await startTestRedis();
  home = await makeTskHome({ TSK_REDIS_URL: redis.url() });
  root = mkdtempSync(join(tmpdir(), 'tsk-hostile-'));
  repo = makeSimpleRepo(join(root, 'repo'));
  victimRepo = makeSimpleRepo(join(root, 'victim-repo'), { 'secret.txt': 'not for the agent\n' });
  markers = join(root, 'markers');
  mkdirSync(markers);
  const configDir = join(home.dir, 'config', 'tsk');
  owner = await createSigningKey(configDir, { name: 'owner' });
  teammate = await createSigningKey(join(root, 'teammate'), { name: 'teammate' });
  stranger = await createSigningKey(join(root, 'stranger'), { name: 'stranger' });
  writeFileSync(
    join(configDir, 'tsk.toml'),
    [
      '[worker]',
      `trusted_keys = [{ name = "teammate", key = "${teammate.publicKey}" }]`,
      // The teammate may read this folder's repositories: what is refused below is refused for itself.
      `repositories = [${JSON.stringify(root)}]`,
      '',
    ].join('\n'),
  );
  service = await hostService();
  connection = await connectRedis({ url: redis.url(), purpose: 'cli' });
  queue = new TaskQueue({ connection });
  jobs = rawJobQueue(connection);
  // The worker's own environment holds a secret a task may ask for by name.
  worker = startServer(['-w', '2'], { ...home.env, NPM_TOKEN: SECRET });
  await worker.waitFor(/worker .* ready/);
  // Build the sandbox image and start the proxy once, outside any case's timing.
  const warm = await queueSigned(await specFor(owner, 'true', 'warm-up'));
  expect((await ended(warm)).status).toBe('COMPLETE');
});

afterAll(async () => {
  if (worker) await stopProcess(worker);
  await queue?.close();
  await jobs?.close();
  connection?.disconnect();
  service?.server.close();
  if (home) await runTsk(['proxy', 'stop'], { env: home.env });
  await redis?.stop();
  for (const image of execFileSync('docker', ['images', '--format', '{{.Repository}}:{{.Tag}}'], { encoding: 'utf8' }).split('\n')) {
    if (image.startsWith(`tsk/${PROJECT}/`)) execFileSync('docker', ['rmi', image], { stdio: 'ignore' });
  }
  await home?.cleanup();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('a queue written by an attacker (real Redis, real worker, real Docker)', () => {
  it('refuses jobs that are unsigned, signed by an unknown key, or altered after signing', async () => {
    const legacy = await specFor(owner, `touch ${markerPath('legacy')}`, 'legacy');
    await plant(legacy.id, { ...legacy, version: 1, signer: undefined });
    const strangers = await queueSigned(await specFor(stranger, `touch ${markerPath('stranger')}`, 'stranger'), stranger);
    const honest = signTask(await specFor(owner, 'echo honest', 'altered'), owner);
    await plant(honest.spec.id, { ...honest.job, spec: honest.job.spec.replace('echo honest', `touch ${markerPath('altered')}`) });

    await expectRefused(legacy.id, `queued by an older tsk and is not signed (run \`tsk retry ${legacy.id}\``);
    await expectRefused(strangers, 'signed by a key this worker does not trust');
    await expectRefused(honest.spec.id, 'the job was altered after owner signed it');
    expect(readdirSync(markers)).toEqual([]);
  });

  it('refuses a ref that would run a command through git, even signed by the owner (finding 1)', async () => {
    for (const key of [owner, teammate]) {
      const spec = await specFor(key, 'true', 'upload-pack');
      const hostile = { ...spec, source: { ...spec.source, ref: `--upload-pack=touch ${markerPath('upload-pack')}`, commit: '1'.repeat(40) } };
      await expectRefused(await queueSigned(hostile, key), 'source.ref must be the task’s snapshot ref');
    }
    expect(existsSync(markerPath('upload-pack'))).toBe(false);
  });

  it('never deletes outside the data directory, whatever ids the records hold (finding 2)', async () => {
    const victim = join(home.dir, 'victim');
    mkdirSync(victim);
    writeFileSync(join(victim, 'keep.txt'), 'keep\n');
    const keys = new QueueKeys();
    // A finished task whose record's id climbs out of <dataDir>/tasks to the victim, and whose workspace
    // folder (a real one, here) the worker's sweep cleans up.
    const dataDir = join(home.dir, 'data', 'tsk');
    mkdirSync(join(dataDir, 'tasks', 'Trav_001'), { recursive: true });
    await connection.hset(keys.task('Trav_001'), { id: '../../../victim', status: 'COMPLETE', name: 'x', type: 'generic', agent: 'script', stack: 'default', project: 'p', createdAt: '2020-01-01T00:00:00.000Z', finishedAt: '2020-01-01T00:00:00.000Z', job: '{}' });
    await connection.zadd(keys.index, 1, 'Trav_001');
    await connection.zadd(keys.index, 2, '../../../victim');
    // A job whose id is a path, signed by the owner.
    const spec = await specFor(owner, 'true', 'traversal');
    await jobs.add('generic', signTask({ ...spec, id: '../../../victim' }, owner).job, { jobId: '../../../victim' });

    // The worker's sweep (every few seconds, once it has settled) removes the finished task's workspace —
    // the one on its disk, not the one the record names; `tsk clean` deletes every finished task.
    const deadline = Date.now() + 60_000;
    while (existsSync(join(dataDir, 'tasks', 'Trav_001')) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 500));
    expect(existsSync(join(dataDir, 'tasks', 'Trav_001'))).toBe(false);
    const clean = await runTsk(['clean', '--json'], { env: home.env });
    expect(clean.exitCode, clean.stderr).toBe(0);
    expect(readFileSync(join(victim, 'keep.txt'), 'utf8')).toBe('keep\n');
    expect((await jobs.getJob('../../../victim'))?.failedReason).toMatch(/is not a tsk task/);
  });

  it('refuses named volumes that are host paths, even signed by the owner (finding 3)', async () => {
    for (const name of ['/', '/var/run/docker.sock']) {
      const spec = await specFor(owner, 'ls /host > listing.txt', 'named-host');
      const hostile = { ...spec, config: { ...spec.config, volumes: [{ kind: 'named' as const, name, container: '/host', readonly: false }] } };
      await expectRefused(await queueSigned(hostile), 'config.volumes[0] must be');
    }
  });

  it('refuses what reaches beyond the sandbox for a teammate, and runs it as today for the owner (finding 4)', async () => {
    const { defaultSquidConf } = await planProxyImage(join(assetsRoot(), 'squid'));
    const openConf = 'http_port 3128\nhttp_access allow all\ncache deny all\n';
    const script = `curl -s --max-time 20 http://$TSK_PROXY_HOST:${service.port}/ > host.txt`;
    const teammates = await specFor(teammate, script, 'reach');
    const demanding = {
      ...teammates,
      config: { ...teammates.config, squidConf: openConf, hostPorts: [service.port], setup: 'RUN true', baseImage: 'evil/image:latest', memoryGb: 512 },
    };
    const refused = await expectRefused(await queueSigned(demanding, teammate), "refused by this worker's policy for tasks of teammate");
    for (const key of ['allow_squid_conf', 'host_ports', 'allow_image_layers', 'base_images', 'max_memory_gb']) expect(refused.error).toContain(key);
    expect(service.hits).toBe(0);

    const owners = await specFor(owner, script, 'reach-owner');
    const squidConf = `${defaultSquidConf}\n# the owner's own proxy configuration (${randomUUID()})\n`;
    const id = await queueSigned({ ...owners, config: { ...owners.config, squidConf, hostPorts: [service.port] } });
    const view = await ended(id);
    expect(view.status, view.error).toBe('COMPLETE');
    expect(git(repo, 'show', `${owners.branch}:host.txt`)).toBe('host service');
    expect(service.hits).toBe(1);
  });

  it('refuses a task that reads one repository and writes another, or a remote that runs a command, even signed by the owner (finding 5)', async () => {
    const victimRefs = refsOf(victimRepo);
    const main = git(repo, 'rev-parse', 'main');
    const spec = await specFor(owner, 'cat secret.txt > stolen.txt', 'cross-repo');
    await expectRefused(await queueSigned({ ...spec, repoPath: victimRepo }), 'source.repoPath must be the task’s repoPath');
    const branch = await specFor(owner, 'echo x > x.txt', 'branch');
    await expectRefused(await queueSigned({ ...branch, branch: 'main' }), 'branch must be tsk/<type>/<name>/<id>');
    const remote = await specFor(owner, 'true', 'remote');
    const url = `ext::sh -c touch% ${markerPath('remote-helper')}`;
    await expectRefused(
      await queueSigned({ ...remote, source: { kind: 'remote', url, ref: remote.source.ref, commit: remote.source.commit } }),
      'source.url names a remote-helper transport',
    );
    // A teammate may not send this worker to a remote it was not set up for (its own credentials fetch and push there).
    const elsewhere = await specFor(teammate, 'true', 'elsewhere');
    await expectRefused(
      await queueSigned({ ...elsewhere, source: { kind: 'remote', url: `file://${victimRepo}`, ref: elsewhere.source.ref, commit: elsewhere.source.commit } }, teammate),
      `the shared remote file://${victimRepo} (remotes)`,
    );
    expect(readdirSync(markers)).toEqual([]);
    expect(refsOf(victimRepo)).toBe(victimRefs);
    expect(git(repo, 'rev-parse', 'main')).toBe(main);
  });

  it('hands a secret to a task by name from the worker, never through the queue (finding 6)', async () => {
    const spec = await specFor(owner, 'printf %s "$NPM_TOKEN" > token.txt', 'env-from-worker');
    const id = await queueSigned({ ...spec, config: { ...spec.config, envFromWorker: ['NPM_TOKEN'] } });
    expect((await ended(id)).status).toBe('COMPLETE');
    expect(git(repo, 'show', `${spec.branch}:token.txt`)).toBe(SECRET);
    // Every value of every key in Redis: the secret is nowhere.
    for (const key of await connection.keys('*')) {
      const type = await connection.type(key);
      const value =
        type === 'string' ? await connection.get(key)
        : type === 'hash' ? JSON.stringify(await connection.hgetall(key))
        : type === 'stream' ? JSON.stringify(await connection.xrange(key, '-', '+'))
        : type === 'list' ? JSON.stringify(await connection.lrange(key, 0, -1))
        : type === 'set' ? JSON.stringify(await connection.smembers(key))
        : type === 'zset' ? JSON.stringify(await connection.zrange(key, 0, -1))
        : '';
      expect(value ?? '', key).not.toContain(SECRET);
    }
    // `env` values travel with the task: on a shared queue, `tsk add` says so for a secret-looking one.
    const configFile = join(home.dir, 'config', 'tsk', 'tsk.toml');
    const config = readFileSync(configFile, 'utf8');
    writeFileSync(configFile, `${config}[defaults]\nenv = [{ name = "API_TOKEN", value = "not-so-secret" }]\n`);
    try {
      const added = await runTsk(['add', '--repo', repo, '--project', PROJECT, '--agent', 'no-op', '-p', 'x'], { env: home.env });
      expect(added.exitCode, added.stderr).toBe(0);
      expect(added.stderr).toContain('env API_TOKEN: values go into the shared queue in clear text; list secrets in env_from_worker instead');
    } finally {
      writeFileSync(configFile, config);
    }
    // A teammate's task asking for it is refused unless the worker shares that variable.
    const teammates = await specFor(teammate, 'true', 'env-teammate');
    await expectRefused(await queueSigned({ ...teammates, config: { ...teammates.config, envFromWorker: ['NPM_TOKEN'] } }, teammate), 'share_env');
  });

  it('refuses a signed job queued again after it ran (replay)', async () => {
    const spec = await specFor(owner, 'echo once >> runs.txt', 'replayed');
    const id = await queueSigned(spec);
    expect((await ended(id)).status).toBe('COMPLETE');
    const tip = git(repo, 'rev-parse', spec.branch);
    const job = JSON.parse((await connection.hget(new QueueKeys().task(id), 'job')) ?? 'null') as unknown;
    // Put it back exactly as it was queued: same signed job, record QUEUED again.
    await (await jobs.getJob(id))?.remove();
    await connection.hset(new QueueKeys().task(id), 'status', 'QUEUED');
    await connection.hdel(new QueueKeys().task(id), 'finishedAt');
    await jobs.add('generic', job, { jobId: id });

    const view = await ended(id);
    expect(view).toMatchObject({ status: 'FAILED', error: `task ${id} already ran on this machine: a job queued again is refused` });
    expect(git(repo, 'rev-parse', spec.branch)).toBe(tip);
    expect((await queue.readLog(id)).filter((entry) => /Starting script agent/.test(entry.line))).toHaveLength(1);
  });

  it('starts a chained task from its parent’s signed result, never from a commit its record names', async () => {
    const parentSpec = await specFor(owner, 'echo parent > parent.txt', 'parent');
    const parent = await queueSigned(parentSpec);
    expect((await ended(parent)).status).toBe('COMPLETE');
    // A commit of the attacker's choosing, in the same repository.
    git(repo, 'checkout', '-q', '-b', 'evil-side');
    writeFileSync(join(repo, 'evil.txt'), 'planted\n');
    git(repo, 'add', 'evil.txt');
    git(repo, 'commit', '-q', '-m', 'evil');
    const evil = git(repo, 'rev-parse', 'HEAD');
    git(repo, 'checkout', '-q', 'main');
    const honestChild = await specFor(owner, 'test -f parent.txt && test ! -f evil.txt && echo ok > child.txt', 'child-ok');
    const rewrittenChild = await specFor(owner, 'test ! -f evil.txt && echo ok > child.txt', 'child-evil');

    // First an untouched chain works.
    const ok = await queueSigned({ ...honestChild, parentTaskId: parent });
    expect((await ended(ok)).status).toBe('COMPLETE');
    // Then the parent's record is rewritten to name the attacker's commit.
    await connection.hset(new QueueKeys().task(parent), 'commit', evil);
    const child = await queueSigned({ ...rewrittenChild, parentTaskId: parent });
    const view = await ended(child);
    expect(view.status).toBe('FAILED');
    expect(view.error).toContain(`cannot start after parent task ${parent}: its result is not signed by a worker this one trusts`);
    expect(view.branch).toBeUndefined();
  });
});
