import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createDocker, createSigningKey, DEFAULT_BASE_IMAGE, ensureBaseImage, ensureDockerLockDir, ImageBuilder, lockDomain, redisImagePlan, redisServerArgs, silentSink } from '@tsk/engine';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// tsk's Redis arguments (append-only, noeviction, password), as the embedded Redis and docker-compose.yml run it.
import { startGitServer, type GitServer } from '../test-utils/git-server.js';
import { git, repoState } from '../test-utils/repo-state.js';
import { makeTskHome, runTsk, type TskHome } from '../test-utils/run-tsk.js';
import { tskCli, type TaskJson } from '../test-utils/tsk-cli.js';
import type { WorkerJson } from '../queue/worker-table.js';
import { containersOf, makeSimpleRepo } from '../test-utils/simple-repo.js';

/*
 * Issue 10's fleet on the real engine: a git server as the team's shared remote, a Redis, and two workers
 * started from the worker image (plain `docker run`), each on a Docker network of its own. The git server
 * and Redis are attached to both networks under the same names (`gitserver`, `redis`), so the workers
 * reach each other only through those two. Each worker is a machine of its own: its own data dir (a host
 * folder mounted at the same path), its own configuration, key and git credentials, its own host name.
 * Nothing of the producer's repository is mounted into them: the CLI on this host (the built `tsk`, a tsk
 * home of its own) reaches them only through the remote and Redis.
 *
 * What they cannot have apart is the Docker engine: both drive this machine's one engine through its
 * socket, so their sandboxes and proxies are neighbours, and a sandbox left by a killed worker is visible
 * to (and reaped by) the surviving one.
 *
 * The worker image is built as compose-fleet.int.test.ts builds it (same tag, cached by content). Warm,
 * the build still takes about 20 s (the legacy builder sends its 100 MB context every time) and the file
 * about 100 s in all, most of it tasks and the 15–20 s until a killed worker counts as lost. The first
 * time, the worker image, the git server's image and the tasks' sandbox image are built too.
 */

const ROOT = resolve(fileURLToPath(import.meta.url), '../../../../..');
const IMAGE = 'tsk-test/fleet-worker:local';
const run = promisify(execFile);
const suffix = randomBytes(4).toString('hex');
/** On every container and network this test creates itself. */
const TEST_LABEL = `tsk.test=fleet-${suffix}`;



/** A worker's machine: a network, a data dir and a configuration folder of its own. */
interface Machine {
  host: string;
  /** The `[worker] labels` entry only this machine's worker has (a chain can be sent across machines). */
  label: string;
  network: string;
  data: string;
  config: string;
}

let server: GitServer;
let root: string;
let producer: TskHome;
let repo: string;
let remoteUrl: string;
let redisPassword: string;
let redisContainer: string;
let machineA: Machine;
let machineB: Machine;
let volumesBefore: Set<string>;
/** Worker name → its container. */
const workerContainers = new Map<string, string>();
/** Every task this test queued (for the cleanup of their sandboxes). */
const taskIds: string[] = [];
let cleanedUp = false;

/** git as the laptop runs it: the server under the workers' name for it, the laptop's credentials. */
const laptopGit = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, env: producer.env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 }).trim();
const docker = async (...args: string[]) => (await run('docker', args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })).stdout.trim();
const { tsk, tskJson } = tskCli(() => ({ env: producer.env, cwd: repo }));

/** What a worker printed (its events on stdout, progress and errors on stderr). */
async function workerLog(name: string): Promise<string> {
  const container = workerContainers.get(name);
  if (container === undefined) return '';
  const { stdout, stderr } = await run('docker', ['logs', container], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }).catch(() => ({ stdout: '', stderr: '' }));
  return `${stdout}${stderr}`;
}

async function allWorkerLogs(): Promise<string> {
  const logs = await Promise.all([...workerContainers.keys()].map(async (name) => `--- ${name}\n${(await workerLog(name)).split('\n').slice(-40).join('\n')}`));
  return logs.join('\n');
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${await allWorkerLogs()}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function listed(id: string): Promise<TaskJson | undefined> {
  return (await tskJson<TaskJson[]>(['list'])).find((task) => task.id === id);
}

async function addTask(name: string, prompt: string, extra: string[] = []): Promise<string> {
  const [task] = await tskJson<TaskJson[]>(['add', '--agent', 'script', '-n', name, '-p', prompt, ...extra]);
  if (!task) throw new Error('tsk add printed no task');
  taskIds.push(task.id);
  return task.id;
}

/** Its configuration folder as the worker image reads it (/etc/tsk-worker), with git credentials of its own. */
function makeMachine(host: string, label: string, network: string, gitCredentials: string): Machine {
  const machine = { host, label, network, data: join(root, host, 'data'), config: join(root, host, 'config') };
  mkdirSync(join(machine.config, 'tsk'), { recursive: true });
  mkdirSync(join(machine.config, 'home'), { recursive: true });
  mkdirSync(machine.data, { recursive: true });
  writeWorkerConfig(machine, []);
  writeFileSync(join(machine.config, 'home', '.gitconfig'), '[credential]\n\thelper = store\n');
  writeFileSync(join(machine.config, 'home', '.git-credentials'), gitCredentials, { mode: 0o600 });
  return machine;
}

function writeWorkerConfig(machine: Machine, extraLabels: string[]): void {
  const labels = [machine.label, ...extraLabels].map((label) => JSON.stringify(label)).join(', ');
  writeFileSync(join(machine.config, 'tsk', 'tsk.toml'), `[worker]\ntrusted_keys_file = "/etc/tsk-worker/team-keys"\nlabels = [${labels}]\n`);
}

/**
 * `docker run` the worker image as a machine's worker: only the Docker socket, its data dir (same path)
 * and its configuration are mounted. The host's pid namespace and a fixed host name, as the README's
 * `docker run` has them, let a restarted worker judge its predecessor's locks and networks as dead.
 */
async function startWorker(machine: Machine, name: string): Promise<string> {
  const container = `tsk-test-fleet-${name}-${suffix}`;
  workerContainers.set(name, container);
  await docker(
    'run', '-d', '--name', container, '--label', TEST_LABEL,
    '--network', machine.network, '--hostname', machine.host, '--pid', 'host',
    '-v', '/var/run/docker.sock:/var/run/docker.sock',
    '-v', `${machine.data}:${machine.data}`,
    '-v', `${machine.config}:/etc/tsk-worker`,
    '-e', `TSK_REDIS_URL=redis://:${redisPassword}@redis:6379`,
    '-e', `TSK_REMOTE_URL=${remoteUrl}`,
    '-e', 'TSK_CONFIG_HOME=/etc/tsk-worker',
    '-e', 'HOME=/etc/tsk-worker/home',
    '-e', `TSK_DATA_HOME=${machine.data}`,
    // No warm proxy: the test checks that nothing of a machine's lock domain outlives its tasks.
    '-e', 'TSK_PROXY_IDLE_TIMEOUT=0',
    IMAGE, '--name', name, '-w', '2', '--grace', '5',
  );
  await until(`worker ${name} to be ready`, async () => ((await workerLog(name)).includes(`worker ${name} ready`) ? true : undefined), 60_000);
  return container;
}

/** The lock domain (`tsk.locks`) of a machine's proxies and task networks: its lock folder, as root in the container. */
const domainOf = (machine: Machine) => lockDomain(join(machine.data, 'tsk', 'locks'), 0);

async function removeContainers(filter: string): Promise<void> {
  const ids = (await docker('ps', '-aq', '--filter', filter).catch(() => '')).split('\n').filter(Boolean);
  if (ids.length > 0) await docker('rm', '-f', '-v', ...ids).catch(() => undefined);
}

async function removeNetworks(filter: string): Promise<void> {
  const names = (await docker('network', 'ls', '-q', '--filter', filter).catch(() => '')).split('\n').filter(Boolean);
  for (const network of names) {
    const members = (await docker('network', 'inspect', '-f', '{{range $id, $c := .Containers}}{{$id}} {{end}}', network).catch(() => '')).split(' ').filter(Boolean);
    for (const member of members) await docker('network', 'disconnect', '-f', network, member).catch(() => undefined);
    await docker('network', 'rm', network).catch(() => undefined);
  }
}

/**
 * Everything this test made, on success and failure: the workers and Redis, the sandboxes of its tasks,
 * the proxies and task networks of the workers' lock domains, its networks, the git server, its folders.
 */
async function cleanup(): Promise<void> {
  if (cleanedUp) return;
  cleanedUp = true;
  await removeContainers(`label=${TEST_LABEL}`);
  for (const id of taskIds) await removeContainers(`label=tsk.task=${id}`);
  for (const machine of [machineA, machineB]) {
    if (machine === undefined) continue;
    // What the host CLI can judge in the workers' lock domain (it shares their lock folder)...
    if (existsSync(join(machine.data, 'tsk'))) await runTsk(['proxy', 'stop'], { env: { ...producer.env, TSK_DATA_HOME: machine.data } }).catch(() => undefined);
    // ...and the rest by force: task networks whose owner was a container's process count as live for hours.
    await removeContainers(`label=tsk.locks=${domainOf(machine)}`);
    await removeNetworks(`label=tsk.locks=${domainOf(machine)}`);
  }
  await removeNetworks(`label=${TEST_LABEL}`);
  await server?.stop();
  await producer?.cleanup();
  if (root) rmSync(root, { recursive: true, force: true });
}

beforeAll(async () => {
  volumesBefore = new Set((await docker('volume', 'ls', '-q')).split('\n').filter(Boolean));
  root = realpathSync(mkdtempSync(join(tmpdir(), 'tsk-fleet-')));
  const gitPassword = randomBytes(12).toString('hex');
  server = await startGitServer({ auth: { user: 'fleet', password: gitPassword } });
  await server.createRepo('team');
  remoteUrl = server.url('team', { credentials: false });
  const gitCredentials = `http://fleet:${gitPassword}@gitserver:8080\n`;

  // The worker image from this checkout's build; the layers before tsk's packages come from the cache.
  await run('docker', ['build', '-q', '-f', 'packages/worker/Dockerfile', '-t', IMAGE, '--build-arg', `BASE_IMAGE=${DEFAULT_BASE_IMAGE}`, '.'], {
    cwd: ROOT,
    timeout: 600_000,
    maxBuffer: 64 * 1024 * 1024,
  });

  // Two networks, one per worker; the git server and Redis are on both, under the same names.
  const networkA = `tsk-test-fleet-a-${suffix}`;
  const networkB = `tsk-test-fleet-b-${suffix}`;
  for (const network of [networkA, networkB]) {
    await docker('network', 'create', '--label', TEST_LABEL, network);
    await server.connect(network);
  }
  const engine = createDocker();
  const redisPlan = redisImagePlan(DEFAULT_BASE_IMAGE);
  await ensureBaseImage({ docker: engine, tag: redisPlan.baseImage, log: silentSink });
  await new ImageBuilder(engine, { lockDir: await ensureDockerLockDir() }).ensureImage(redisPlan, { log: silentSink });
  redisPassword = randomBytes(16).toString('hex');
  redisContainer = `tsk-test-fleet-redis-${suffix}`;
  // Published on loopback for the CLI on this host; the workers use `redis` on their own network.
  await docker('run', '-d', '--name', redisContainer, '--label', TEST_LABEL, '--network', networkA, '--network-alias', 'redis', '-p', '127.0.0.1::6379', redisPlan.tag, ...redisServerArgs(redisPassword));
  await docker('network', 'connect', '--alias', 'redis', networkB, redisContainer);
  await until('redis', async () => ((await docker('logs', redisContainer)).includes('Ready to accept connections') ? true : undefined), 30_000);
  const redisPort = /:(\d+)$/m.exec(await docker('port', redisContainer, '6379/tcp'))?.[1];

  // The laptop: a tsk home of its own, a git that reaches the server under the workers' name for it,
  // with its credentials in a store of its own.
  writeFileSync(join(root, 'laptop-credentials'), gitCredentials, { mode: 0o600 });
  writeFileSync(join(root, 'laptop.gitconfig'), `[http]\n\tcurloptResolve = ${server.resolve}\n[credential]\n\thelper = store --file=${join(root, 'laptop-credentials')}\n`);
  producer = await makeTskHome({
    TSK_REDIS_URL: `redis://:${redisPassword}@127.0.0.1:${redisPort}`,
    TSK_REMOTE_URL: remoteUrl,
    GIT_CONFIG_GLOBAL: join(root, 'laptop.gitconfig'),
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_TERMINAL_PROMPT: '0',
  });
  repo = makeSimpleRepo(join(root, 'laptop'), { 'README.md': '# fleet\n', '.gitignore': '.env\n' });
  expect((await tsk(['key', 'init', '--name', 'laptop'])).exitCode).toBe(0);
  const laptopKey = await tsk(['key', 'show']);
  expect(laptopKey.exitCode, laptopKey.stderr).toBe(0);

  machineA = makeMachine('fleet-a-host', 'net-a', networkA, gitCredentials);
  machineB = makeMachine('fleet-b-host', 'net-b', networkB, gitCredentials);
  // Each worker signs its results with a key of its own. The laptop trusts both (`tsk fetch` takes only
  // results a trusted worker signed); each worker trusts the laptop (whose tasks it runs) and the other
  // worker, since a chained task that lands on one starts from its parent's result only when a key it
  // trusts signed that result (the README's "Workers on more machines").
  const keyA = await createSigningKey(join(machineA.config, 'tsk'), { name: 'fleet-a' });
  const keyB = await createSigningKey(join(machineB.config, 'tsk'), { name: 'fleet-b' });
  writeFileSync(join(machineA.config, 'team-keys'), `${laptopKey.stdout.trim()}\n${keyB.publicKey} fleet-b\n`);
  writeFileSync(join(machineB.config, 'team-keys'), `${laptopKey.stdout.trim()}\n${keyA.publicKey} fleet-a\n`);
  writeFileSync(
    join(producer.dir, 'config', 'tsk', 'tsk.toml'),
    `[worker]\ntrusted_keys = [{ name = "fleet-a", key = "${keyA.publicKey}" }, { name = "fleet-b", key = "${keyB.publicKey}" }]\n`,
  );
  await Promise.all([startWorker(machineA, 'fleet-a'), startWorker(machineB, 'fleet-b')]);
}, 900_000);

afterAll(async () => {
  await cleanup();
}, 180_000);

describe('a fleet of two workers in containers on networks of their own (real engine, git server, Redis)', () => {
  /** The killed worker's machine, for the test that brings it back. */
  let restart: { machine: Machine; killed: string; workspace: string; lostTask: string; survivor: string } | undefined;

  it('shares nothing with the producer’s repository: each worker mounts the socket, its data dir and its configuration only', async () => {
    for (const [name, machine] of [['fleet-a', machineA], ['fleet-b', machineB]] as const) {
      const container = workerContainers.get(name) ?? '';
      const mounts = JSON.parse(await docker('inspect', '-f', '{{json .Mounts}}', container)) as { Source: string; Destination: string }[];
      expect(mounts.map((mount) => `${mount.Source}:${mount.Destination}`).sort()).toEqual(
        [`${machine.config}:/etc/tsk-worker`, `${machine.data}:${machine.data}`, '/var/run/docker.sock:/var/run/docker.sock'].sort(),
      );
      const networks = Object.keys(JSON.parse(await docker('inspect', '-f', '{{json .NetworkSettings.Networks}}', container)) as object);
      expect(networks).toEqual([machine.network]);
    }
  });

  it('runs 6 tasks (two chained) queued from the host on both workers; results reach the remote, come home with tsk fetch, leave with tsk delete', async () => {
    // What a user has: an uncommitted edit, an untracked file, and an ignored secret.
    const secret = `SECRET=${randomBytes(16).toString('hex')}`;
    writeFileSync(join(repo, 'README.md'), '# fleet, edited\n');
    writeFileSync(join(repo, 'notes.txt'), 'untracked\n');
    writeFileSync(join(repo, '.env'), `${secret}\n`);
    const before = repoState(repo);

    // The sleeps keep both workers' slots busy for a moment, so the tasks cannot all land on one.
    const parent = await addTask('parent', 'test ! -e .env; cat README.md notes.txt > seen.txt; sleep 3');
    const others: string[] = [];
    for (const n of [1, 2, 3, 4]) others.push(await addTask(`solo-${n}`, `test ! -e .env; echo ${n} > solo.txt; sleep 2`));
    // The chain crosses machines: the child requires the label of the worker that does not run the parent,
    // so its worker finds the parent's result on the remote, signed by the other worker's key.
    const parentWorker = await until('the parent to start', async () => (await listed(parent))?.worker ?? undefined);
    const childMachine = parentWorker === 'fleet-a' ? machineB : machineA;
    const child = await addTask('child', 'echo child >> seen.txt', ['--parent', parent, '--requires', childMachine.label]);
    const ids = [parent, child, ...others];

    const waited = await tsk(['wait', ...ids, '--json']);
    const ended = JSON.parse(waited.stdout) as TaskJson[];
    expect(waited.exitCode, `${waited.stdout}\n${waited.stderr}\n${await allWorkerLogs()}`).toBe(0);
    for (const task of ended) expect(task, JSON.stringify(task)).toMatchObject({ status: 'COMPLETE', remote: remoteUrl, resultRef: `refs/tsk/results/${task.id}` });
    // Split across both workers, the unchained ones too.
    const byId = new Map(ended.map((task) => [task.id, task]));
    expect(new Set([byId.get(parent)?.worker, byId.get(child)?.worker])).toEqual(new Set(['fleet-a', 'fleet-b']));
    expect(new Set(others.map((id) => byId.get(id)?.worker))).toEqual(new Set(['fleet-a', 'fleet-b']));

    // On the remote: each result under refs/tsk/results/<id> (no branch), each snapshot under refs/tsk/snapshots/<id>.
    const refs = await server.refs('team');
    for (const task of ended) {
      expect(refs.get(`refs/tsk/results/${task.id}`)).toBe(task.commit);
      expect(refs.has(`refs/tsk/snapshots/${task.id}`)).toBe(true);
    }
    expect([...refs.keys()].filter((ref) => ref.startsWith('refs/heads/'))).toEqual([]);

    // Everything anyone with access to the remote can read: the edit and the untracked file, never the
    // ignored secret (in no object at all). The chained task started from its parent's result.
    const copy = join(root, 'remote-copy.git');
    laptopGit(root, 'clone', '-q', '--mirror', remoteUrl, copy);
    expect(git(copy, 'show', `refs/tsk/snapshots/${parent}:notes.txt`)).toBe('untracked');
    expect(() => git(copy, 'show', `refs/tsk/snapshots/${parent}:.env`)).toThrow();
    expect(git(copy, 'show', `refs/tsk/results/${parent}:seen.txt`)).toBe('# fleet, edited\nuntracked');
    expect(git(copy, 'show', `refs/tsk/results/${child}:seen.txt`)).toBe('# fleet, edited\nuntracked\nchild');
    const everything = git(copy, 'cat-file', '--batch-all-objects', '--batch');
    expect(everything).toContain('# fleet, edited');
    expect(everything).not.toContain(secret);

    // Nothing reached the laptop's repository yet; `tsk fetch` (no ids) brings all six as branches.
    expect(git(repo, 'branch', '--list', 'tsk/*')).toBe('');
    const fetched = await tsk(['fetch']);
    expect(fetched.exitCode, `${fetched.stdout}\n${fetched.stderr}`).toBe(0);
    for (const task of ended) expect(git(repo, 'rev-parse', `refs/heads/${task.branch}`)).toBe(task.commit);
    expect(git(repo, 'show', `${byId.get(child)?.branch}:seen.txt`)).toBe('# fleet, edited\nuntracked\nchild');
    expect(repoState(repo)).toEqual(before);
    for (const id of ids) expect(containersOf(id)).toBe('');

    // Deleting the tasks removes their snapshot and result refs from the remote; the branches stay.
    const deleted = await tsk(['delete', ...ids]);
    expect(deleted.exitCode, `${deleted.stdout}\n${deleted.stderr}`).toBe(0);
    const left = [...(await server.refs('team')).keys()];
    for (const id of ids) expect(left.filter((ref) => ref.includes(id))).toEqual([]);
    expect(git(repo, 'branch', '--list', 'tsk/*').split('\n')).toHaveLength(6);
    expect(repoState(repo)).toEqual(before);
  });

  it('lists both workers; one killed mid-task leaves its task FAILED "worker … lost", reaped by the other, which keeps serving', async () => {
    const workers = await tskJson<WorkerJson[]>(['workers']);
    expect(workers.map((worker) => [worker.name, worker.host, worker.state, worker.capacity, worker.labels]).sort()).toEqual([
      ['fleet-a', 'fleet-a-host', 'running', 2, ['net-a']],
      ['fleet-b', 'fleet-b-host', 'running', 2, ['net-b']],
    ]);

    const id = await addTask('long', 'echo started > started.txt; sleep 300; echo never > never.txt');
    // Running, with its agent started in its sandbox.
    const running = await until('the long task to run its agent', async () => {
      const task = await listed(id);
      if (task?.status !== 'RUNNING' || containersOf(id) === '') return undefined;
      return (await tsk(['logs', id])).stdout.includes('Starting script agent') ? task : undefined;
    });
    const victim = running.worker ?? '';
    const survivor = victim === 'fleet-a' ? 'fleet-b' : 'fleet-a';
    expect(['fleet-a', 'fleet-b']).toContain(victim);
    const victimMachine = victim === 'fleet-a' ? machineA : machineB;
    const workspace = join(victimMachine.data, 'tsk', 'tasks', id);
    expect(existsSync(workspace)).toBe(true);
    // Isolated as on any machine: behind a proxy of the victim's own lock domain, on a task network.
    expect(await docker('ps', '-q', '--filter', `label=tsk.locks=${domainOf(victimMachine)}`, '--filter', 'label=tsk.role=proxy')).not.toBe('');

    await docker('kill', workerContainers.get(victim) ?? '');

    // The survivor's sweep records it once the victim's heartbeat has expired (15 s, swept every 5 s).
    const recorded = `${id} FAILED: worker ${victim} lost`;
    await until('the survivor to record the task lost', async () => ((await workerLog(survivor)).includes(recorded) ? true : undefined), 60_000);
    expect(await listed(id)).toMatchObject({ status: 'FAILED', error: `worker ${victim} lost` });

    // Same engine: the survivor removes the sandbox the victim left running.
    await until('the sandbox to be reaped', async () => (containersOf(id) === '' ? true : undefined), 30_000);
    expect(await workerLog(survivor)).toMatch(new RegExp(`removed container \\S+ left by lost worker ${victim}`));
    expect((await server.refs('team')).has(`refs/tsk/results/${id}`)).toBe(false);

    // `tsk workers` shows one now; the survivor takes the next task.
    expect((await tskJson<WorkerJson[]>(['workers'])).map((worker) => worker.name)).toEqual([survivor]);
    const next = await addTask('after', 'echo still serving > after.txt');
    const [after] = await tskJson<TaskJson[]>(['wait', next]);
    expect(after, JSON.stringify(after)).toMatchObject({ status: 'COMPLETE', worker: survivor });
    expect((await server.refs('team')).get(`refs/tsk/results/${next}`)).toBe(after?.commit);

    // The killed worker's workspace is on its own disk, out of the survivor's reach: its machine's next
    // worker removes it (below). Its result is still nowhere.
    expect(existsSync(workspace)).toBe(true);
    restart = { machine: victimMachine, killed: victim, workspace, lostTask: id, survivor };
  });

  it('--requires gpu waits, visibly, while no worker has the label, and runs on the worker that gets it', async () => {
    if (restart === undefined) throw new Error('needs the killed worker of the previous test');
    const id = await addTask('gpu', 'echo on the gpu machine > gpu.txt', ['--requires', 'gpu']);
    // The survivor takes the job and hands it back, without an attempt; `tsk list` says what it waits for.
    const handedBack = `${id} left to another worker (waiting for a worker with label gpu)`;
    await until('the survivor to hand the job back', async () => ((await workerLog(restart?.survivor ?? '')).includes(handedBack) ? true : undefined), 30_000);
    expect(await listed(id)).toMatchObject({ status: 'QUEUED', worker: null, note: 'no worker with label gpu seen in the last 10 min' });

    // The killed worker's machine comes back with the label: same network, data dir and key, a new name.
    await docker('rm', '-f', workerContainers.get(restart.killed) ?? '');
    writeWorkerConfig(restart.machine, ['gpu']);
    await startWorker(restart.machine, 'fleet-gpu');
    const [ran] = await tskJson<TaskJson[]>(['wait', id]);
    expect(ran, JSON.stringify(ran)).toMatchObject({ status: 'COMPLETE', worker: 'fleet-gpu', note: null });
    expect((await server.refs('team')).get(`refs/tsk/results/${id}`)).toBe(ran?.commit);
    const listedWorkers = await tskJson<WorkerJson[]>(['workers']);
    expect(listedWorkers.find((worker) => worker.name === 'fleet-gpu')?.labels).toEqual([restart.machine.label, 'gpu']);

    // Back on its disk, the machine's worker removes what its killed predecessor left there; and with the
    // same host name in the host's pid namespace it judges the dead process's task network and proxy as
    // dead too: once its own task is done, nothing of its lock domain is left on the engine.
    const workspace = restart.workspace;
    await until('the lost task’s workspace to be removed', async () => (existsSync(workspace) ? undefined : true), 30_000);
    const domain = `label=tsk.locks=${domainOf(restart.machine)}`;
    await until('the lost task’s network and proxy to be removed', async () => {
      const left = `${await docker('ps', '-aq', '--filter', domain)}${await docker('network', 'ls', '-q', '--filter', domain)}`;
      return left === '' ? true : undefined;
    }, 30_000);
    expect((await server.refs('team')).has(`refs/tsk/results/${restart.lostTask}`)).toBe(false);
  });

  it('leaves nothing behind: containers, networks, volumes, folders', async () => {
    const proxies = [domainOf(machineA), domainOf(machineB)];
    await cleanup();
    expect(await docker('ps', '-aq', '--filter', `label=${TEST_LABEL}`)).toBe('');
    expect(await docker('network', 'ls', '-q', '--filter', `label=${TEST_LABEL}`)).toBe('');
    for (const domain of proxies) {
      expect(await docker('ps', '-aq', '--filter', `label=tsk.locks=${domain}`)).toBe('');
      expect(await docker('network', 'ls', '-q', '--filter', `label=tsk.locks=${domain}`)).toBe('');
    }
    for (const id of taskIds) expect(containersOf(id)).toBe('');
    expect((await docker('ps', '-a', '--format', '{{.Names}}')).split('\n').filter((name) => name.includes(suffix))).toEqual([]);
    expect((await docker('network', 'ls', '--format', '{{.Name}}')).split('\n').filter((name) => name.includes(suffix))).toEqual([]);
    const volumes = (await docker('volume', 'ls', '-q')).split('\n').filter(Boolean);
    expect(volumes.filter((volume) => !volumesBefore.has(volume))).toEqual([]);
    expect(existsSync(root)).toBe(false);
  });
});
