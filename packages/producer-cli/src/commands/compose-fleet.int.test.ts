import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { connectRedis, loadSigningKey } from '@tsk/engine';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGitServer, type GitServer } from '../test-utils/git-server.js';
import { git, repoState } from '../test-utils/repo-state.js';
import { makeTskHome, runTsk, type TskHome } from '../test-utils/run-tsk.js';
import { tskCli, type TaskJson } from '../test-utils/tsk-cli.js';
import { containersOf, makeSimpleRepo } from '../test-utils/simple-repo.js';

/*
 * The team fleet as the README sets it up: `docker compose up -d --build --scale worker=2` from the
 * repository root (docker-compose.yml: Redis and the worker image, both built from the base image), a
 * git server as the team's remote, and the CLI on this host queueing into it. The workers share nothing
 * with the producer's repository: its only link to them is the remote. They share this machine's one
 * Docker engine, whose socket they drive.
 *
 * Slow the first time: the worker image builds in about a minute (Debian's nodejs and git, then the
 * host's built packages), the git server's in about 15 s, and the first task builds its sandbox image.
 * Later runs reuse every layer whose input did not change (a rebuild of tsk's packages only re-copies them).
 */

const ROOT = resolve(fileURLToPath(import.meta.url), '../../../../..');
const run = promisify(execFile);


/** `docker compose` (v2 plugin) where the machine has it, else `docker-compose` (1.29, Debian bookworm's). */
function composeCommand(): string[] {
  for (const command of [['docker', 'compose'], ['docker-compose']]) {
    try {
      execFileSync(command[0] ?? '', [...command.slice(1), 'version'], { stdio: 'ignore' });
      return command;
    } catch {
      // try the next one
    }
  }
  throw new Error('neither `docker compose` nor `docker-compose` is installed (scripts/setup.sh installs docker-compose)');
}

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolvePort(address.port) : reject(new Error('no port'))));
    });
  });
}

const project = `tskfleet${randomBytes(4).toString('hex')}`;
const compose = composeCommand();
let server: GitServer;
let root: string;
let producer: TskHome;
let repo: string;
let redisUrl: string;
let remoteUrl: string;
let workerConfig: string;
let workerData: string;
let composeFiles: string[];

/** Run compose on this test's project, with only the settings this test gives it. */
async function composeRun(args: string[], timeoutMs = 600_000): Promise<string> {
  // Nothing from the developer's shell or a .env at the root: only this test's env file.
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('TSK_')));
  const [bin, ...pre] = compose;
  const { stdout, stderr } = await run(bin ?? 'docker', [...pre, '-p', project, '--env-file', join(root, 'fleet.env'), ...composeFiles, ...args], {
    cwd: ROOT,
    env,
    timeout: timeoutMs,
    maxBuffer: 64 * 1024 * 1024,
  });
  return `${stdout}${stderr}`;
}

const docker = async (...args: string[]) => (await run('docker', args, { encoding: 'utf8' })).stdout.trim();
const { tsk, tskJson } = tskCli(() => ({ env: producer.env, cwd: repo }));

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${await composeRun(['logs', '--tail', '40']).catch(String)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function addTask(name: string, prompt: string): Promise<string> {
  const [task] = await tskJson<TaskJson[]>(['add', '--agent', 'script', '-n', name, '-p', prompt]);
  if (!task) throw new Error('tsk add printed no task');
  return task.id;
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'tsk-compose-'));
  const password = randomBytes(12).toString('hex');
  server = await startGitServer({ auth: { user: 'fleet', password } });
  await server.createRepo('team');
  // No credentials in the URL: each side keeps its own in git's credential store.
  remoteUrl = server.url('team', { credentials: false });
  const credentials = `http://fleet:${password}@gitserver:8080\n`;

  // The laptop: its own tsk home, and a git that reaches the server under the workers' name for it.
  writeFileSync(join(root, 'laptop-credentials'), credentials, { mode: 0o600 });
  writeFileSync(join(root, 'laptop.gitconfig'), `[http]\n\tcurloptResolve = ${server.resolve}\n[credential]\n\thelper = store --file=${join(root, 'laptop-credentials')}\n`);
  const redisPort = await freePort();
  const redisPassword = randomBytes(16).toString('hex');
  redisUrl = `redis://:${redisPassword}@127.0.0.1:${redisPort}`;
  producer = await makeTskHome({
    TSK_REDIS_URL: redisUrl,
    TSK_REMOTE_URL: remoteUrl,
    GIT_CONFIG_GLOBAL: join(root, 'laptop.gitconfig'),
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_TERMINAL_PROMPT: '0',
  });
  repo = makeSimpleRepo(join(root, 'laptop'), { 'README.md': '# fleet\n', '.gitignore': '.env\n' });
  expect((await tsk(['key', 'init', '--name', 'laptop'])).exitCode).toBe(0);
  const keyLine = await tsk(['key', 'show']);
  expect(keyLine.exitCode, keyLine.stderr).toBe(0);

  // The fleet's folders, as the README has them: configuration (trusted keys, git credentials) and data.
  workerConfig = join(root, 'worker-config');
  workerData = join(root, 'worker-data');
  mkdirSync(join(workerConfig, 'tsk'), { recursive: true });
  mkdirSync(join(workerConfig, 'home'), { recursive: true });
  mkdirSync(workerData);
  writeFileSync(join(workerConfig, 'team-keys'), keyLine.stdout);
  writeFileSync(join(workerConfig, 'tsk', 'tsk.toml'), '[worker]\ntrusted_keys_file = "/etc/tsk-worker/team-keys"\n');
  writeFileSync(join(workerConfig, 'home', '.gitconfig'), '[credential]\n\thelper = store\n');
  writeFileSync(join(workerConfig, 'home', '.git-credentials'), credentials, { mode: 0o600 });

  writeFileSync(
    join(root, 'fleet.env'),
    [
      `TSK_REDIS_PASSWORD=${redisPassword}`,
      `TSK_REDIS_PORT=${redisPort}`,
      `TSK_REMOTE_URL=${remoteUrl}`,
      `TSK_WORKER_CONFIG=${workerConfig}`,
      `TSK_WORKER_DATA=${workerData}`,
      'TSK_WORKER_GRACE=20',
      'TSK_WORKER_STOP_GRACE=40s',
      // Tags of the test's own, so a fleet of this machine keeps its images.
      'TSK_WORKER_IMAGE=tsk-test/fleet-worker:local',
      'TSK_REDIS_IMAGE=tsk-test/fleet-redis:local',
      '',
    ].join('\n'),
  );
  // The one addition to the root's file: the workers also join the git server's network, where
  // `gitserver` resolves (a real fleet reaches its git server by DNS).
  writeFileSync(
    join(root, 'compose.test.yml'),
    `services:\n  worker:\n    networks: [default, gitserver]\nnetworks:\n  gitserver:\n    external: true\n    name: ${server.network}\n`,
  );
  composeFiles = ['-f', join(ROOT, 'docker-compose.yml'), '-f', join(root, 'compose.test.yml')];
});

afterAll(async () => {
  if (root) {
    await composeRun(['down', '--volumes', '--remove-orphans'], 120_000).catch(() => undefined);
    await docker('volume', 'rm', '-f', `${project}_redis-data`).catch(() => undefined);
    // Proxies the workers left, if any: the host CLI with the workers' data dir shares their lock domain.
    if (workerData && existsSync(join(workerData, 'tsk'))) {
      await runTsk(['proxy', 'stop'], { env: { ...producer.env, TSK_DATA_HOME: workerData } }).catch(() => undefined);
    }
  }
  await server?.stop();
  await producer?.cleanup();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('docker compose fleet (docker-compose.yml, real engine, real git server)', () => {
  it('brings up Redis and two workers that run a task queued from this host through the remote, and goes down cleanly', async () => {
    await composeRun(['up', '-d', '--build', '--scale', 'worker=2']);

    // Redis: published on loopback only, password required, append-only, never evicting.
    const redisContainer = (await composeRun(['ps', '-q', 'redis'])).trim();
    expect(await docker('port', redisContainer, '6379/tcp')).toMatch(/^127\.0\.0\.1:\d+$/m);
    await expect(connectRedis({ url: redisUrl.replace(/:[0-9a-f]+@/, ''), purpose: 'cli', connectTimeoutMs: 2000 })).rejects.toThrow(/NOAUTH|Authentication required/);
    const redis = await connectRedis({ url: redisUrl, purpose: 'cli' });
    try {
      expect(await redis.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
      expect(await redis.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'noeviction']);
    } finally {
      redis.disconnect();
    }

    // Both replicas beat on the queue; started at once on an empty configuration folder, they made one key.
    const workers = await until('two workers', async () => {
      const listed = await tskJson<{ name: string }[]>(['workers']);
      return listed.length === 2 ? listed : undefined;
    });
    expect(readdirSync(join(workerConfig, 'tsk')).sort()).toEqual(['signing-key.json', 'tsk.toml']);
    const fleetKey = await loadSigningKey(join(workerConfig, 'tsk'));
    if (fleetKey === undefined) throw new Error('the workers made no signing key');
    // The laptop trusts the fleet's results (`tsk fetch` fetches only what a trusted worker signed).
    writeFileSync(join(producer.dir, 'config', 'tsk', 'tsk.toml'), `[worker]\ntrusted_keys = [{ name = "fleet", key = "${fleetKey.publicKey}" }]\n`);

    // Untracked and not ignored: goes to the team's server with the snapshot; .env is ignored: never does.
    writeFileSync(join(repo, 'notes.txt'), 'draft\n');
    writeFileSync(join(repo, '.env'), 'SECRET=1\n');
    const before = repoState(repo);
    const id = await addTask('fleet-hello', 'cat notes.txt > seen.txt; test ! -e .env; echo from the fleet >> seen.txt');
    const [waited] = await tskJson<TaskJson[]>(['wait', id]);
    expect(waited, JSON.stringify(waited)).toMatchObject({ status: 'COMPLETE', remote: remoteUrl, resultRef: `refs/tsk/results/${id}` });
    expect(workers.map((worker) => worker.name)).toContain(waited?.worker);

    const refs = await server.refs('team');
    expect(refs.get(`refs/tsk/results/${id}`)).toBe(waited?.commit);
    expect(refs.has(`refs/tsk/snapshots/${id}`)).toBe(true);
    const fetched = await tsk(['fetch', id]);
    expect(fetched.exitCode, `${fetched.stdout}\n${fetched.stderr}`).toBe(0);
    const branch = waited?.branch ?? '';
    expect(git(repo, 'rev-parse', `refs/heads/${branch}`)).toBe(waited?.commit);
    expect(git(repo, 'show', `${branch}:seen.txt`)).toBe('draft\nfrom the fleet');
    expect(repoState(repo)).toEqual(before);
    expect(containersOf(id)).toBe('');

    await composeRun(['down'], 120_000);
    const label = `label=com.docker.compose.project=${project}`;
    expect(await docker('ps', '-aq', '--filter', label)).toBe('');
    expect(await docker('network', 'ls', '-q', '--filter', label)).toBe('');
    // The queue outlives the fleet: its volume stays until `down -v` (or the cleanup here).
    expect(await docker('volume', 'ls', '-q', '--filter', label)).toBe(`${project}_redis-data`);
  });

  it('a worker told to stop (docker compose stop) finishes its running task within its grace, then exits', async () => {
    await composeRun(['up', '-d', '--scale', 'worker=1']);
    const id = await addTask('slow', 'sleep 8; echo finished > done.txt');
    await until('the task to run', async () => ((await tskJson<TaskJson[]>(['list'])).find((task) => task.id === id)?.status === 'RUNNING' ? true : undefined));
    const worker = (await composeRun(['ps', '-q', 'worker'])).trim();
    // SIGTERM now; Docker's SIGKILL would come only after stop_grace_period (TSK_WORKER_STOP_GRACE).
    await composeRun(['stop', 'worker'], 120_000);
    expect(await docker('inspect', '-f', '{{.State.ExitCode}}', worker)).toBe('0');
    const [task] = (await tskJson<TaskJson[]>(['list'])).filter((listed) => listed.id === id);
    expect(task, JSON.stringify(task)).toMatchObject({ status: 'COMPLETE' });
    expect((await server.refs('team')).get(`refs/tsk/results/${id}`)).toBe(task?.commit);
  });

  it('fails a task whose result the remote refuses, keeping the result in the fleet’s mirror', async () => {
    await composeRun(['up', '-d', '--scale', 'worker=1']);
    await server.refusePushes('team', 'refs/tsk/results/');
    const id = await addTask('refused', 'echo kept > kept.txt');
    const waitedOut = await tsk(['wait', id, '--json']);
    const [waited] = JSON.parse(waitedOut.stdout) as TaskJson[];
    expect(waitedOut.exitCode).not.toBe(0);
    expect(waited?.status).toBe('FAILED');
    expect(waited?.error).toMatch(/this server refuses pushes to refs\/tsk\/results\//);
    expect((await server.refs('team')).has(`refs/tsk/results/${id}`)).toBe(false);
    // The replicas' mirror is in the data dir on this host (mounted at the same path).
    const mirrors = readdirSync(join(workerData, 'tsk', 'mirrors'));
    expect(mirrors).toHaveLength(1);
    const kept = git(join(workerData, 'tsk', 'mirrors', mirrors[0] ?? ''), 'show', `refs/tsk/results/${id}:kept.txt`);
    expect(kept).toBe('kept');
  });

  it('refuses to start a worker whose data dir the engine does not see at the same path', async () => {
    const image = 'tsk-test/fleet-worker:local';
    const elsewhere = join(root, 'not-mounted');
    mkdirSync(join(elsewhere, 'tsk'), { recursive: true });
    const start = (dataHome: string) =>
      run('docker', ['run', '--rm', '-v', '/var/run/docker.sock:/var/run/docker.sock', '-e', `TSK_DATA_HOME=${dataHome}`, image], { encoding: 'utf8' }).then(
        () => 'started',
        (error: { stderr?: string }) => error.stderr ?? '',
      );
    // A host folder exists at that path, but the container's own folder is another one.
    expect(await start(elsewhere)).toContain(`The Docker engine's host has another folder at ${join(elsewhere, 'tsk')} than this worker's data dir`);
    expect(await start(join(root, 'nowhere'))).toContain(`The Docker engine's host has no folder ${join(root, 'nowhere', 'tsk')}, this worker's data dir`);
    expect(existsSync(join(root, 'nowhere'))).toBe(false);
  });
});
