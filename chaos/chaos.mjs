#!/usr/bin/env node
// The chaos suite (issue 12): real `tsk add` / `tsk cancel` on a real git repository, real `tsk-worker`
// processes, one real redis-server (AOF, fsync always) that the suite starts itself, the machine's Docker
// engine. While tasks are queued and run, it cancels tasks, SIGKILLs workers and starts them again, kills
// Redis and starts it again on the same dir and port, and (only with TSK_CHAOS_ENGINE_RESTART=1, which
// .ci/run sets when its set-up started dockerd itself) restarts the Docker engine. Then it waits for
// everything to settle and counts what must be zero. Random choices come from --seed (printed), so a
// failing run can be replayed.
//
// Usage: node chaos/chaos.mjs [--profile short|full] [--seed N] [--keep]
// Run `npm run build` first. Exit code 0 when every counter is 0.
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, lstatSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { dockerAnswers, engineFiles, engineRestartAllowed, restartDaemon } from './engine-restart.mjs';
// The engine's one seeded PRNG (mulberry32), built like the bins this suite runs: good enough to pick victims.
import { seededRandom as rng } from '../packages/engine/dist/common/seeded-random.js';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const TSK_BIN = join(ROOT, 'packages/producer-cli/bin/run.js');
const WORKER_BIN = join(ROOT, 'packages/worker/bin/tsk-worker.js');
const run = promisify(execFile);

// ---------------------------------------------------------------------------------------------------
// Profiles and options

const PROFILES = {
  // CI: a few minutes.
  short: { tasks: 20, workers: 2, concurrency: 2, kills: 1, redisRestarts: 1, cancels: 3, engineRestarts: 1, noOpShare: 0.2, maxSleep: 4, settleMs: 240_000 },
  // `npm run chaos`.
  full: { tasks: 100, workers: 3, concurrency: 2, kills: 4, redisRestarts: 1, cancels: 10, engineRestarts: 1, noOpShare: 0.2, maxSleep: 6, settleMs: 420_000 },
};

function parseOptions(argv) {
  const options = { profile: 'full', seed: undefined, keep: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--profile') options.profile = argv[++i];
    else if (arg === '--seed') options.seed = Number(argv[++i]);
    else if (arg === '--keep') options.keep = true;
    else if (arg === '-h' || arg === '--help') {
      process.stdout.write('Usage: node chaos/chaos.mjs [--profile short|full] [--seed N] [--keep]\n');
      process.exit(0);
    } else throw new Error(`unknown argument ${arg}`);
  }
  if (!(options.profile in PROFILES)) throw new Error(`--profile must be short or full, got ${options.profile}`);
  if (options.seed === undefined) options.seed = Date.now() % 2 ** 31;
  if (!Number.isInteger(options.seed) || options.seed < 0) throw new Error('--seed must be a non-negative integer');
  return options;
}

/** `{ status: count }` as "COMPLETE 3, FAILED 1". */
const tally = (tasks) => Object.entries(tasks.reduce((acc, task) => ((acc[task.status] = (acc[task.status] ?? 0) + 1), acc), {})).map(([status, n]) => `${status} ${n}`).join(', ');
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const started = Date.now();
const say = (line) => process.stdout.write(`[chaos ${((Date.now() - started) / 1000).toFixed(0).padStart(4)}s] ${line}\n`);

// ---------------------------------------------------------------------------------------------------
// Processes the suite starts (and stops by pid)

const children = new Set();

function track(child) {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

function killAll() {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

async function freePort() {
  const server = createServer();
  await new Promise((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** One PING over a raw socket: no client library needed. */
function redisPing(port) {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const done = (ok) => (socket.destroy(), resolve(ok));
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
    socket.write('PING\r\n');
  });
}

class Redis {
  constructor(dir, port) {
    this.dir = dir;
    this.port = port;
    this.url = `redis://127.0.0.1:${port}`;
    this.child = undefined;
  }

  async start() {
    const out = openSync(join(this.dir, 'redis.log'), 'a');
    this.child = track(
      spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', '', '--maxmemory-policy', 'noeviction'], { stdio: ['ignore', out, out] }),
    );
    closeSync(out);
    for (const deadline = Date.now() + 20_000; !(await redisPing(this.port)); await sleep(100)) {
      if (this.child.exitCode !== null || Date.now() > deadline) throw new Error(`redis-server did not start on port ${this.port} (log: ${join(this.dir, 'redis.log')})`);
    }
  }

  /** SIGKILL by pid: nothing flushed on the way out but what AOF already has. */
  async kill() {
    const child = this.child;
    if (child === undefined || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    process.kill(child.pid, 'SIGKILL');
    await exited;
  }
}

/** A worker's machine: its data and runtime dirs; one `tsk-worker` process at a time. */
class WorkerSlot {
  constructor(index, root, baseEnv, concurrency, runId) {
    this.index = index;
    this.concurrency = concurrency;
    this.runId = runId;
    this.dataHome = join(root, `w${index}`, 'data');
    this.log = join(root, `w${index}`, 'worker.log');
    mkdirSync(this.dataHome, { recursive: true });
    this.env = { ...baseEnv, TSK_DATA_HOME: this.dataHome, TSK_RUNTIME_DIR: join(root, `w${index}`, 'run') };
    this.generation = 0;
    this.child = undefined;
    this.name = undefined;
    this.expectedExit = false;
    this.unexpectedExits = [];
    /** Starts that found Redis down and were tried again. */
    this.startRetries = 0;
  }

  /** Its proxies and task networks carry this `tsk.locks` label (proxy/task-owner.ts lockDomain). */
  get lockDomain() {
    const uid = process.getuid?.() ?? 0;
    return createHash('sha256').update(`${uid}\0${join(this.dataHome, 'tsk', 'locks')}`).digest('hex').slice(0, 12);
  }

  get running() {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /**
   * Start the worker and wait until it is ready. Like a supervisor (systemd, compose `restart:`), start it
   * again when it exits at once because Redis does not answer yet (it refuses to start without its queue).
   */
  async start() {
    for (let attempt = 1; ; attempt++) {
      const outcome = await this.startOnce();
      if (outcome === 'ready') return;
      if (outcome !== 'no-redis' || attempt >= 30) throw new Error(`worker ${this.name} did not get ready (log: ${this.log})`);
      this.startRetries += 1;
      await sleep(1000);
    }
  }

  async startOnce() {
    this.generation += 1;
    this.name = `chaos-${this.runId}-w${this.index}-${this.generation}`;
    this.expectedExit = false;
    const out = openSync(this.log, 'a');
    writeFileSync(out, `--- ${new Date().toISOString()} starting ${this.name}\n`);
    const child = track(spawn(process.execPath, [WORKER_BIN, '--name', this.name, '-w', String(this.concurrency), '--no-health', '--grace', '10'], { env: this.env, stdio: ['ignore', out, out] }));
    closeSync(out);
    this.child = child;
    const name = this.name;
    const logStart = readFileSync(this.log, 'utf8').length;
    let ready = false;
    child.once('exit', (code, signal) => {
      if (this.child === child && !this.expectedExit && ready) {
        this.unexpectedExits.push(`${name}: ${code ?? signal}`);
        say(`worker ${name} exited by itself (${code ?? signal}); see ${this.log}`);
      }
    });
    for (const deadline = Date.now() + 60_000; ; await sleep(200)) {
      const printed = readFileSync(this.log, 'utf8').slice(logStart);
      if (printed.includes(`worker ${name} ready`)) {
        ready = true;
        return 'ready';
      }
      if (child.exitCode !== null) return printed.includes('Cannot reach Redis') ? 'no-redis' : 'failed';
      if (Date.now() > deadline) return 'failed';
    }
  }

  async kill() {
    if (!this.running) return;
    this.expectedExit = true;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    process.kill(this.child.pid, 'SIGKILL');
    await exited;
  }

  async stop() {
    if (!this.running) return;
    this.expectedExit = true;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    process.kill(this.child.pid, 'SIGTERM');
    const timer = setTimeout(() => this.running && process.kill(this.child.pid, 'SIGKILL'), 60_000);
    await exited;
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------------------------------------------
// tsk, git and docker as a user runs them

/** `tsk <args>` as a user runs it; stdin closed (a piped stdin is read as the prompt). */
function tsk(args, env, cwd) {
  return new Promise((resolve) => {
    const child = track(spawn(process.execPath, [TSK_BIN, ...args], { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] }));
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.once('error', (error) => resolve({ code: 1, stdout, stderr: String(error) }));
    child.once('close', (code, signal) => resolve({ code: code ?? signal, stdout, stderr }));
  });
}

async function git(cwd, ...args) {
  return (await run('git', args, { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })).stdout.trim();
}

async function docker(...args) {
  return (await run('docker', args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })).stdout.trim();
}

const lines = (text) => text.split('\n').filter(Boolean);

function makeRepo(dir) {
  mkdirSync(join(dir, 'src', 'lib'), { recursive: true });
  writeFileSync(join(dir, 'README.md'), '# chaos\n');
  writeFileSync(join(dir, 'src', 'main.txt'), 'main\n');
  writeFileSync(join(dir, 'src', 'lib', 'util.txt'), 'util\n');
  writeFileSync(join(dir, '.gitignore'), 'ignored.txt\n');
  writeFileSync(join(dir, 'ignored.txt'), 'ignored but present\n');
  return run('sh', ['-c', 'git init -q -b main && git config user.name Chaos && git config user.email chaos@example.com && git add -A && git commit -q -m initial'], { cwd: dir }).then(() => {
    // A change left in the working tree: tasks snapshot it, and it must still be there, untouched, after.
    writeFileSync(join(dir, 'src', 'main.txt'), 'main, edited\n');
  });
}

function hashTree(dir, hash, rel = '') {
  for (const name of readdirSync(join(dir, rel)).sort()) {
    if (rel === '' && name === '.git') continue;
    const path = join(rel, name);
    const stat = lstatSync(join(dir, path));
    hash.update(`${path}\0${stat.mode}\0`);
    if (stat.isDirectory()) hashTree(dir, hash, path);
    else if (stat.isSymbolicLink()) hash.update(readlinkSync(join(dir, path)));
    else hash.update(readFileSync(join(dir, path)));
  }
}

/** What tsk must leave alone: refs outside tsk's namespaces, HEAD, the index file, the working tree, its status. */
async function repoState(repo) {
  const tree = createHash('sha256');
  hashTree(repo, tree);
  const refs = lines(await git(repo, 'for-each-ref', '--format=%(refname) %(objectname)')).filter((line) => !line.startsWith('refs/heads/tsk/') && !line.startsWith('refs/tsk/'));
  return {
    refs: refs.join('\n'),
    head: readFileSync(join(repo, '.git', 'HEAD'), 'utf8'),
    index: createHash('sha256').update(readFileSync(join(repo, '.git', 'index'))).digest('hex'),
    tree: tree.digest('hex'),
    status: await git(repo, 'status', '--porcelain=v1', '--ignored', '--untracked-files=all'),
  };
}

/**
 * Sandbox container starts per task, from the engine's own event stream (label `tsk.task`): a task whose
 * sandbox started twice ran twice. Followed again from where it stopped when the engine restarts.
 */
class SandboxStarts {
  constructor() {
    this.starts = new Map();
    /** Task id → its sandboxes' exits: when (ms since the epoch) and with which code. */
    this.dies = new Map();
    this.since = Math.floor(Date.now() / 1000) - 1;
    this.child = undefined;
    this.stopped = false;
  }

  follow() {
    const child = track(spawn('docker', ['events', '--since', String(this.since), '--filter', 'type=container', '--filter', 'event=start', '--filter', 'event=die', '--filter', 'label=tsk.task', '--format', '{{json .}}'], { stdio: ['ignore', 'pipe', 'ignore'] }));
    this.child = child;
    let buffer = '';
    child.stdout.on('data', (chunk) => {
      buffer += chunk.toString();
      let at;
      while ((at = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, at);
        buffer = buffer.slice(at + 1);
        try {
          const event = JSON.parse(line);
          const task = event.Actor?.Attributes?.['tsk.task'];
          // Proxies and helpers carry no tsk.task; a sandbox's id is unique per start (its container id).
          if (task === undefined) continue;
          this.since = Math.max(this.since, Number(event.time ?? 0));
          if (event.Action === 'die' || event.status === 'die') {
            const at = Number(event.timeNano ?? 0) / 1e6 || Number(event.time ?? 0) * 1000;
            this.dies.set(task, [...(this.dies.get(task) ?? []), { at, exitCode: event.Actor?.Attributes?.exitCode }]);
            continue;
          }
          const ids = this.starts.get(task) ?? new Set();
          ids.add(`${event.id ?? event.Actor?.ID}@${event.timeNano ?? event.time}`);
          this.starts.set(task, ids);
          this.since = Math.max(this.since, Number(event.time ?? 0));
        } catch {
          // not an event line
        }
      }
    });
    child.once('exit', () => {
      if (!this.stopped) setTimeout(() => !this.stopped && this.follow(), 1000);
    });
  }

  stop() {
    this.stopped = true;
    if (this.child?.exitCode === null) this.child.kill('SIGTERM');
  }
}

// ---------------------------------------------------------------------------------------------------
// The run

const TERMINAL = new Set(['COMPLETE', 'FAILED', 'CANCELLED']);
/** A task's error says its worker was lost (killed), the one way chaos without an engine restart may fail a task. */
const lostWithWorker = (error) => /^worker \S+ lost/.test(error ?? '');

async function main() {
  const options = parseOptions(process.argv.slice(2));
  const profile = PROFILES[options.profile];
  const random = rng(options.seed);
  const pick = (list) => list[Math.floor(random() * list.length)];
  const engineRestarts = engineRestartAllowed() ? profile.engineRestarts : 0;
  say(`profile ${options.profile}, seed ${options.seed} (replay: node chaos/chaos.mjs --profile ${options.profile} --seed ${options.seed})`);
  say(`${profile.tasks} tasks, ${profile.workers} workers × ${profile.concurrency}, ${profile.kills} worker kills, ${profile.redisRestarts} Redis restarts, ${profile.cancels} cancels, ` +
    (engineRestarts > 0 ? `${engineRestarts} Docker engine restart` : 'no Docker engine restart (TSK_CHAOS_ENGINE_RESTART is not 1: this suite did not start the engine)'));
  if (!dockerAnswers()) throw new Error('no Docker engine answers (npm run setup)');
  if (!existsSync(join(ROOT, 'packages/engine/dist/index.js'))) throw new Error('run npm run build first');

  const runId = options.seed.toString(36);
  const root = mkdtempSync(join(tmpdir(), 'tsk-chaos-'));
  say(`working in ${root}`);
  const redisDir = join(root, 'redis');
  mkdirSync(redisDir);
  const redis = new Redis(redisDir, await freePort());
  await redis.start();
  say(`redis-server pid ${redis.child.pid} on ${redis.url} (appendonly, fsync always)`);

  const configHome = join(root, 'config');
  mkdirSync(join(configHome, 'tsk'), { recursive: true });
  // Starts back to back: the suite wants many starts in little time, not polite agents.
  writeFileSync(join(configHome, 'tsk', 'tsk.toml'), '[server]\nstart_interval = "0s"\n');
  const baseEnv = { ...process.env, TSK_CONFIG_HOME: configHome, TSK_REDIS_URL: redis.url, NO_COLOR: '1' };
  delete baseEnv.TSK_LOCK_DIR;
  const producerEnv = { ...baseEnv, TSK_DATA_HOME: join(root, 'producer', 'data'), TSK_RUNTIME_DIR: join(root, 'producer', 'run') };
  // Two repositories (two projects, two images), tasks alternating between them.
  const repos = [join(root, 'chaos-repo'), join(root, 'chaos-repo-b')];
  for (const dir of repos) {
    mkdirSync(dir);
    await makeRepo(dir);
  }
  const repo = repos[0];
  const reposBefore = await Promise.all(repos.map((dir) => repoState(dir)));
  /** Task id → the repository it was added in. */
  const repoOf = new Map();

  const events = new SandboxStarts();
  events.follow();
  const slots = Array.from({ length: profile.workers }, (_, i) => new WorkerSlot(i + 1, root, baseEnv, profile.concurrency, runId));
  await Promise.all(slots.map((slot) => slot.start()));
  say(`workers ready: ${slots.map((slot) => `${slot.name} (pid ${slot.child.pid})`).join(', ')}`);

  // What happened, for the report.
  const counts = { added: 0, addErrors: 0, cancelsAsked: 0, cancelsRefused: 0, kills: 0, redisRestarts: 0, engineRestarts: 0 };
  const ids = [];
  /** Each `tsk cancel` and what it said. */
  const cancels = [];
  const restarts = new Set();

  // Each chaos event fires before the task at its position is added, spread over the run.
  const schedule = [];
  const at = () => 2 + Math.floor(random() * (profile.tasks - 2));
  for (let i = 0; i < profile.kills; i++) schedule.push({ at: at(), kind: 'kill' });
  for (let i = 0; i < profile.cancels; i++) schedule.push({ at: at(), kind: 'cancel' });
  for (let i = 0; i < profile.redisRestarts; i++) schedule.push({ at: Math.floor(profile.tasks * (0.3 + 0.4 * random())), kind: 'redis' });
  for (let i = 0; i < engineRestarts; i++) schedule.push({ at: Math.floor(profile.tasks * (0.4 + 0.4 * random())), kind: 'engine' });
  schedule.sort((a, b) => a.at - b.at);

  const inFlight = new Set();
  const addTask = async (n) => {
    const noOp = random() < profile.noOpShare;
    const seconds = Math.floor(random() * (profile.maxSleep + 1));
    const args = noOp
      ? ['add', '-a', 'no-op', '-n', `chaos-${n}`, '-p', `chaos no-op task ${n}`, '--json']
      : ['add', '-a', 'script', '-n', `chaos-${n}`, '-p', `mkdir -p chaos\necho "task ${n}" > chaos/task-${n}.txt\nsleep ${seconds}\n`, '--json'];
    for (let attempt = 1; ; attempt++) {
      const result = await tsk(args, producerEnv, repos[n % repos.length]);
      if (result.code === 0) {
        for (const task of JSON.parse(result.stdout)) {
          ids.push(task.id);
          repoOf.set(task.id, repos[n % repos.length]);
        }
        counts.added += 1;
        return;
      }
      counts.addErrors += 1;
      say(`tsk add of task ${n} failed (attempt ${attempt}): ${lines(result.stderr).slice(-1)[0] ?? result.code}`);
      if (attempt >= 5) throw new Error(`tsk add keeps failing: ${result.stderr}`);
      await sleep(2000);
    }
  };
  const quiesce = async () => {
    await Promise.all(inFlight);
  };

  const fire = async (event) => {
    if (event.kind === 'kill') {
      const victims = slots.filter((slot) => slot.running);
      if (victims.length === 0) return;
      const slot = pick(victims);
      const delay = 1000 + Math.floor(random() * 4000);
      say(`SIGKILL worker ${slot.name} (pid ${slot.child.pid}); restarting it in ${(delay / 1000).toFixed(1)} s`);
      await slot.kill();
      counts.kills += 1;
      const restart = sleep(delay)
        .then(() => slot.start())
        .then(() => say(`worker ${slot.name} started (pid ${slot.child.pid})`));
      restarts.add(restart);
      void restart.catch(() => undefined).finally(() => restarts.delete(restart));
    } else if (event.kind === 'cancel') {
      if (ids.length === 0) return;
      // Mostly a task that has not ended (queued, running, waiting), as the list shows it now; else any.
      const listing = await tsk(['list', '--json'], producerEnv, repo);
      const open = listing.code === 0 ? JSON.parse(listing.stdout).filter((task) => !TERMINAL.has(task.status)).map((task) => task.id) : [];
      const id = open.length > 0 && random() < 0.9 ? pick(open.sort()) : pick(ids);
      const askedAt = Date.now();
      const result = await tsk(['cancel', id], producerEnv, repo);
      counts.cancelsAsked += 1;
      if (result.code !== 0) counts.cancelsRefused += 1;
      // "Cancelled <id>", "<id> ended COMPLETE … before it could be cancelled" (its agent had finished), "Stopping
      // <id>: its worker has been told" or "<id> had already ended (…)".
      const said = result.code === 0 ? (lines(result.stdout)[0] ?? '') : `exit ${result.code}: ${lines(result.stderr).slice(-1)[0] ?? ''}`;
      cancels.push({ id, said, askedAt });
      say(`tsk cancel ${id}: ${said}`);
    } else if (event.kind === 'redis') {
      await quiesce();
      const down = 500 + Math.floor(random() * 2500);
      say(`SIGKILL redis-server (pid ${redis.child.pid}); starting it again on the same dir and port in ${(down / 1000).toFixed(1)} s`);
      await redis.kill();
      await sleep(down);
      await redis.start();
      counts.redisRestarts += 1;
      say(`redis-server back (pid ${redis.child.pid})`);
    } else if (event.kind === 'engine') {
      await quiesce();
      const files = engineFiles(ROOT);
      say(`restarting the Docker engine (stop by the pid in ${files.pidFile}, start it again with its command line)`);
      const result = await restartDaemon(files);
      counts.engineRestarts += 1;
      say(`Docker engine back: pid ${result.oldPid} → ${result.newPid} (${result.command.join(' ')}), away ${(result.downMs / 1000).toFixed(1)} s`);
    }
  };

  for (let n = 0; n < profile.tasks; n++) {
    while (schedule.length > 0 && schedule[0].at <= n) await fire(schedule.shift());
    while (inFlight.size >= 2) await Promise.race(inFlight);
    const adding = addTask(n).finally(() => inFlight.delete(adding));
    inFlight.add(adding);
  }
  await quiesce();
  for (const event of schedule) await fire(event);
  say(`all ${counts.added} tasks added (${ids.length} ids); waiting for restarts and for every task to end`);
  await Promise.all(restarts);
  // A worker that died by itself is a finding; it is restarted so the queue can still drain.
  for (const slot of slots) if (!slot.running) await slot.start();

  // Settle: every task the suite added ends, or the deadline says what is stuck.
  let listed = [];
  const deadline = Date.now() + profile.settleMs;
  for (let lastNote = 0; ; await sleep(3000)) {
    const result = await tsk(['list', '--json'], producerEnv, repo);
    if (result.code === 0) listed = JSON.parse(result.stdout);
    const open = listed.filter((task) => !TERMINAL.has(task.status));
    if (result.code === 0 && open.length === 0 && ids.every((id) => listed.some((task) => task.id === id))) break;
    if (Date.now() > deadline) {
      say(`settle deadline: ${open.length} tasks not ended`);
      break;
    }
    if (Date.now() - lastNote > 20_000) {
      lastNote = Date.now();
      say(`settling: ${tally(listed)}`);
    }
  }

  // `tsk list` shows a dead worker's tasks lost at once; a worker records that, and removes what the dead
  // one left, only a heartbeat TTL after its own reconnection (a Redis restart lapses every heartbeat).
  // Wait for that record before stopping the workers, as a user leaving them up would.
  const idSet = new Set(ids);
  const lostTasks = new Map(listed.filter((task) => idSet.has(task.id) && lostWithWorker(task.error)).map((task) => [task.id, task]));
  const notYetRecorded = () => {
    const logs = slots.map((slot) => (existsSync(slot.log) ? readFileSync(slot.log, 'utf8') : '')).join('\n');
    return [...lostTasks.keys()].filter((id) => !new RegExp(`^\\S+ ${id} FAILED.*worker \\S+ lost`, 'm').test(logs));
  };
  for (let until = Date.now() + 60_000, waiting = notYetRecorded(); waiting.length > 0; await sleep(1000), waiting = notYetRecorded()) {
    if (Date.now() > until) {
      say(`not recorded lost by any worker within 60 s: ${waiting.join(' ')}`);
      break;
    }
  }
  // Let the last sweeps run (stale workspaces, idle task networks), then stop the workers as a user would.
  await sleep(8000);
  await Promise.all(slots.map((slot) => slot.stop()));
  events.stop();

  // -------------------------------------------------------------------------------------------------
  // Counting
  const byId = new Map(listed.map((task) => [task.id, task]));
  const lost = ids.filter((id) => !byId.has(id));
  const stuck = ids.filter((id) => byId.has(id) && !TERMINAL.has(byId.get(id).status));
  const runTwiceByContainers = ids.filter((id) => (events.starts.get(id)?.size ?? 0) > 1);

  // Result branches: each completed script task has one, with exactly one commit beyond its snapshot
  // (a second run would add its own), and no task has two branches.
  const branchesOf = new Map();
  for (const dir of repos) branchesOf.set(dir, lines(await git(dir, 'for-each-ref', '--format=%(refname:short)', 'refs/heads/tsk/')));
  const branchProblems = [];
  const missingResults = [];
  const checkOneResult = async (dir, id, branch) => {
    const commits = lines(await git(dir, 'log', '--format=%s', `main..${branch}`)).filter((subject) => !subject.startsWith('tsk snapshot for task'));
    if (commits.length !== 1) branchProblems.push(`${id}: ${branch} has ${commits.length} result commits`);
  };
  for (const task of listed.filter((t) => idSet.has(t.id))) {
    if (task.status === 'COMPLETE' && task.agent === 'script' && !task.branch) missingResults.push(`${task.id}: COMPLETE without a branch`);
    if (!task.branch) continue;
    const taskRepo = repoOf.get(task.id) ?? repo;
    if (!branchesOf.get(taskRepo).includes(task.branch)) {
      missingResults.push(`${task.id}: branch ${task.branch} missing`);
      continue;
    }
    await checkOneResult(taskRepo, task.id, task.branch);
  }
  const claimed = new Set(listed.map((task) => task.branch).filter(Boolean));
  // A worker killed after it wrote a local task's branch but before it recorded the end (Redis away at
  // that moment) leaves its task FAILED "worker … lost" with the branch in the repository: that task's
  // own result, kept, not a stray, but still checked for a second run.
  const keptByLost = [];
  const strayBranches = [];
  for (const dir of repos) {
    for (const branch of branchesOf.get(dir).filter((name) => !claimed.has(name))) {
      const owner = lostTasks.get(branch.split('/').at(-1));
      if (owner === undefined || (repoOf.get(owner.id) ?? repo) !== dir) {
        strayBranches.push(`${dir}:${branch}`);
        continue;
      }
      keptByLost.push(`${owner.id}: ${branch}`);
      await checkOneResult(dir, owner.id, branch);
    }
  }
  const runTwice = new Set([...runTwiceByContainers, ...branchProblems.map((line) => line.split(':')[0])]);

  // Leftovers, before `tsk proxy stop` (which would also sweep what a lost task left): sandboxes, task
  // networks, volumes of these tasks, and workspaces in each worker's data dir.
  const containersOf = async (filter) => lines(await docker('ps', '-a', '--filter', filter, '--format', '{{.ID}} {{.Names}} {{.Label "tsk.task"}}'));
  const sandboxes = (await containersOf('label=tsk.task')).filter((line) => idSet.has(line.split(' ')[2]));
  const taskNetworks = [];
  const proxiesBefore = [];
  for (const slot of slots) {
    for (const line of lines(await docker('network', 'ls', '--filter', `label=tsk.locks=${slot.lockDomain}`, '--format', '{{.Name}} {{.Label "tsk.role"}}'))) {
      if (line.split(' ')[1] === 'task') taskNetworks.push(line.split(' ')[0]);
    }
    proxiesBefore.push(...(await containersOf(`label=tsk.locks=${slot.lockDomain}`)));
  }
  const volumes = lines(await docker('volume', 'ls', '--filter', 'label=tsk.task', '--format', '{{.Name}} {{.Label "tsk.task"}}')).filter((line) => idSet.has(line.split(' ')[1]));
  const workspaces = slots.flatMap((slot) => {
    const dir = join(slot.dataHome, 'tsk', 'tasks');
    return existsSync(dir) ? readdirSync(dir).map((name) => join(dir, name)) : [];
  });

  // Idle proxies may be kept warm for a while after their last task: stop them as the user would, then
  // nothing of the suite's may be left.
  for (const slot of slots) {
    const result = await tsk(['proxy', 'stop'], slot.env, repo);
    if (result.code !== 0) say(`tsk proxy stop (${slot.name}): ${lines(result.stderr).slice(-1)[0] ?? result.code}`);
  }
  const proxiesAfter = [];
  const networksAfter = [];
  for (const slot of slots) {
    proxiesAfter.push(...(await containersOf(`label=tsk.locks=${slot.lockDomain}`)));
    networksAfter.push(...lines(await docker('network', 'ls', '--filter', `label=tsk.locks=${slot.lockDomain}`, '--format', '{{.Name}}')));
  }
  const reposAfter = await Promise.all(repos.map((dir) => repoState(dir)));
  const repoChanges = repos.flatMap((dir, i) => Object.keys(reposBefore[i]).filter((key) => reposBefore[i][key] !== reposAfter[i][key]).map((key) => `${dir}: ${key}`));
  const crashes = slots.flatMap((slot) => slot.unexpectedExits);
  // A task fails under chaos only with its worker (killed: "worker <name> lost") or, when the engine was
  // restarted, with its container; anything else is a bug the chaos uncovered.
  const failures = listed.filter((task) => idSet.has(task.id) && task.status === 'FAILED');
  const reasons = new Map();
  for (const task of failures) {
    const reason = (task.error ?? '(no reason)').replaceAll(task.id, '<id>').replace(/\/tmp\/\S+/g, '<path>').slice(0, 160);
    reasons.set(reason, [...(reasons.get(reason) ?? []), task.id]);
  }
  // A task `tsk cancel` said it cancelled ends CANCELLED; one it was stopping may still have finished first.
  // And one that "finished first" really had: its sandbox exited before the cancel, or within the moment
  // its worker needs to hear it (pub/sub, else a poll every 2 s), never running on for long after.
  const CANCEL_REACH_MS = 3000;
  const ranOn = (cancel) => (events.dies.get(cancel.id) ?? []).find((die) => die.at > cancel.askedAt + CANCEL_REACH_MS && String(die.exitCode) === '0');
  const cancelsIgnored = cancels.filter(
    (cancel) => (cancel.said.startsWith('Cancelled') && byId.get(cancel.id)?.status !== 'CANCELLED') || (byId.get(cancel.id)?.status === 'COMPLETE' && cancel.said.includes('before it could be cancelled') && ranOn(cancel)),
  );
  const said = (prefix) => cancels.filter((cancel) => cancel.said.startsWith(prefix) || cancel.said.includes(prefix)).length;
  const unexpectedFailures = failures.filter((task) => !lostWithWorker(task.error));

  // -------------------------------------------------------------------------------------------------
  // Report
  const statuses = tally(listed.filter((task) => idSet.has(task.id)));
  const rows = [
    ['tasks added', ids.length, `${statuses}; ${counts.addErrors} add attempts failed (retried)`, false],
    ['chaos', counts.kills + counts.redisRestarts + counts.engineRestarts + counts.cancelsAsked, `${counts.kills} worker SIGKILLs, ${counts.redisRestarts} Redis restarts, ${counts.engineRestarts} engine restarts, ${counts.cancelsAsked} cancels (${said('Cancelled')} cancelled, ${said('before it could be cancelled')} finished first, ${said('Stopping')} stopping, ${said('already ended')} already ended, ${counts.cancelsRefused} refused)`, false],
    ['failed, by reason', failures.length, [...reasons].map(([reason, tasks]) => `${tasks.length}× ${reason}`).join('; '), false],
    ['cancels not honoured', cancelsIgnored.length, cancelsIgnored.map((cancel) => `${cancel.id}: "${cancel.said}" but ${byId.get(cancel.id)?.status ?? 'missing'}${ranOn(cancel) ? `; its sandbox ran ${((ranOn(cancel).at - cancel.askedAt) / 1000).toFixed(1)} s after the cancel` : ''}`).join('; '), true],
    ['tasks lost', lost.length, lost.join(' '), true],
    ['stuck non-terminal', stuck.length, stuck.map((id) => `${id}=${byId.get(id).status}`).join(' '), true],
    ['run twice', runTwice.size, [...runTwiceByContainers.map((id) => `${id}: ${events.starts.get(id).size} sandbox starts`), ...branchProblems].join('; '), true],
    ['results kept by lost workers', keptByLost.length, keptByLost.join('; '), false],
    ['stray result branches', strayBranches.length, strayBranches.join(' '), true],
    ['results missing', missingResults.length, missingResults.join('; '), true],
    ['unexpected failures', unexpectedFailures.length, [...reasons].filter(([reason]) => !lostWithWorker(reason)).map(([reason, tasks]) => `${tasks.length}× ${reason}`).join('; '), counts.engineRestarts === 0],
    ['containers left', sandboxes.length, sandboxes.join('; '), true],
    ['task networks left', taskNetworks.length, taskNetworks.join(' '), true],
    ['proxies left', proxiesAfter.length, `${proxiesBefore.length} idle before tsk proxy stop; ${proxiesAfter.join('; ')}`, true],
    ['networks left', networksAfter.length, networksAfter.join(' '), true],
    ['volumes left', volumes.length, volumes.join(' '), true],
    ['workspaces left', workspaces.length, workspaces.join(' '), true],
    ['repository changes', repoChanges.length, repoChanges.join(', '), true],
    ['worker crashes', crashes.length, `${crashes.join('; ')}${slots.some((slot) => slot.startRetries > 0) ? ` (starts retried while Redis was down: ${slots.reduce((n, slot) => n + slot.startRetries, 0)})` : ''}`, true],
  ];
  const failed = rows.filter(([, value, , asserted]) => asserted && value !== 0);
  process.stdout.write(`\nChaos suite, profile ${options.profile}, seed ${options.seed}, ${((Date.now() - started) / 1000).toFixed(0)} s\n\n`);
  process.stdout.write(`| counter | value | expected | detail |\n|---|---:|---:|---|\n`);
  for (const [name, value, detail, asserted] of rows) process.stdout.write(`| ${name} | ${value} | ${asserted ? '0' : ''} | ${String(detail).slice(0, 400).replaceAll('|', '/')} |\n`);
  process.stdout.write(`\n${failed.length === 0 ? 'PASS' : `FAIL: ${failed.map(([name]) => name).join(', ')}`}\n`);

  // -------------------------------------------------------------------------------------------------
  // Clean-up: what is left is removed by force (it has been counted), then Redis and the folder.
  for (const line of [...sandboxes, ...proxiesAfter]) await docker('rm', '-f', '-v', line.split(' ')[0]).catch(() => undefined);
  for (const name of [...taskNetworks, ...networksAfter]) await docker('network', 'rm', name).catch(() => undefined);
  for (const line of volumes) await docker('volume', 'rm', '-f', line.split(' ')[0]).catch(() => undefined);
  await redis.kill();
  if (failed.length === 0 && !options.keep) rmSync(root, { recursive: true, force: true });
  else say(`kept ${root} (worker logs: w*/worker.log, Redis: redis/)`);
  return failed.length === 0 ? 0 : 1;
}

process.on('SIGINT', () => {
  killAll();
  process.exit(130);
});

main()
  .then((code) => {
    killAll();
    process.exitCode = code;
  })
  .catch((error) => {
    process.stderr.write(`chaos: ${error.stack ?? error}\n`);
    killAll();
    process.exitCode = 2;
  });
