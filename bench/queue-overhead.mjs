#!/usr/bin/env node
// Queue overhead, with the `no-op` agent and a worker on this machine:
//   - `tsk add` → the task's container starting (Docker's own start event): median and p99;
//   - `tsk add` and `tsk list` command latency with an empty queue and with 1,000 tasks queued.
// Figures are printed, never asserted. Uses a throwaway embedded Redis (its own container and volume,
// removed at the end) unless TSK_REDIS_URL is set. Run `npm run build` first.
// Usage: node bench/queue-overhead.mjs [--runs 20] [--queued 1000] [--samples 10]
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const engine = await import(join(root, 'packages/engine/dist/index.js'));
const tskBin = join(root, 'packages/producer-cli/bin/run.js');

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? Number(args[at + 1]) : fallback;
};
const RUNS = option('runs', 20);
const QUEUED = option('queued', 1000);
const SAMPLES = option('samples', 10);

const sorted = (values) => [...values].sort((a, b) => a - b);
const median = (values) => sorted(values)[Math.floor(values.length / 2)];
/** Nearest-rank percentile: with fewer than 100 samples p99 is the slowest one. */
const percentile = (values, p) => sorted(values)[Math.min(values.length - 1, Math.ceil((p / 100) * values.length) - 1)];
const ms = (value) => `${value.toFixed(0)} ms`.padStart(8);

const work = mkdtempSync(join(tmpdir(), 'tsk-queue-bench-'));
const home = join(work, 'home');
const redisContainer = `tsk-redis-bench-${process.pid}`;
const env = {
  ...process.env,
  TSK_CONFIG_HOME: join(home, 'config'),
  TSK_DATA_HOME: join(home, 'data'),
  TSK_RUNTIME_DIR: join(home, 'run'),
  TSK_REDIS_CONTAINER: redisContainer,
  NO_COLOR: '1',
};

function makeRepo() {
  const repo = join(work, 'repo');
  mkdirSync(repo);
  const git = (...a) => execFileSync('git', a, { cwd: repo });
  git('init', '-q', '-b', 'main');
  git('config', 'user.name', 'bench');
  git('config', 'user.email', 'bench@example.com');
  for (let i = 0; i < 50; i++) writeFileSync(join(repo, `file-${i}.txt`), `content ${i}\n`);
  git('add', '-A');
  git('commit', '-q', '-m', 'bench fixture');
  return repo;
}

function tsk(argv, cwd) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [tskBin, ...argv], { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`tsk ${argv.join(' ')} failed (${code}): ${stderr}`))));
  });
}

async function timed(argv, cwd) {
  const start = performance.now();
  const stdout = await tsk(argv, cwd);
  return { ms: performance.now() - start, stdout };
}

/** Docker's container start events for tsk sandboxes: task id → wall-clock ms. */
function watchContainerStarts() {
  const starts = new Map();
  const events = spawn('docker', [
    'events', '--filter', 'type=container', '--filter', 'event=start', '--filter', 'label=tsk.managed=true',
    '--format', '{{index .Actor.Attributes "tsk.task"}} {{.TimeNano}}',
  ]);
  let pending = '';
  events.stdout.on('data', (chunk) => {
    const lines = (pending + chunk).split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      const [task, nanos] = line.trim().split(' ');
      if (task && nanos) starts.set(task, Number(BigInt(nanos) / 1_000_000n));
    }
  });
  return { starts, stop: () => events.kill() };
}

async function waitFor(what, probe, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function addToStart(repo) {
  const server = spawn(process.execPath, [tskBin, 'server', 'start', '-w', '1', '--no-health'], { env, cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
  let serverOut = '';
  server.stdout.on('data', (d) => (serverOut += d));
  server.stderr.on('data', (d) => (serverOut += d));
  await waitFor('the worker', () => (serverOut.includes(' ready: ') ? true : undefined), 300_000);
  const watcher = watchContainerStarts();
  const latencies = [];
  try {
    // Warm-up: builds the no-op image, so the figures are the queue's overhead, not a first build.
    for (let run = -1; run < RUNS; run++) {
      const startedAt = Date.now();
      const out = await tsk(['add', '--agent', 'no-op', '-n', `bench-${run}`, '-p', 'bench'], repo);
      const id = /Queued (\S+) /.exec(out)?.[1];
      const containerStart = await waitFor(`the container of ${id}`, () => watcher.starts.get(id), 300_000);
      if (run >= 0) latencies.push(containerStart - startedAt);
      await tsk(['wait', id], repo);
    }
  } finally {
    watcher.stop();
    server.kill('SIGTERM');
    await new Promise((resolve) => server.on('close', resolve));
  }
  return latencies;
}

/** Queue `count` tasks through the engine (as `tsk add` would, minus `count` process starts). */
async function fillQueue(repo, count) {
  const opened = await engine.openConfiguredQueue({ purpose: 'cli', log: engine.silentSink, env });
  try {
    const { key } = await engine.loadLocalTrust(opened.config.machine);
    const template = await engine.createTaskSpec({ repoPath: repo, prompt: 'bench', agent: 'no-op', env, log: engine.silentSink, signer: engine.taskSigner(key) });
    for (let i = 0; i < count; i++) {
      const id = engine.newTaskId();
      const source = { ...template.source, ref: `refs/tsk/snapshots/${id}` };
      const spec = { ...template, id, name: `filler-${i}`, source, branch: `tsk/generic/filler-${i}/${id}`, createdAt: new Date().toISOString() };
      await opened.queue.add(engine.signTask(spec, key));
    }
  } finally {
    await opened.close();
  }
}

async function commandLatencies(repo) {
  const add = [];
  const list = [];
  for (let i = 0; i < SAMPLES; i++) {
    add.push((await timed(['add', '--agent', 'no-op', '-n', `lat-${i}`, '-p', 'bench'], repo)).ms);
    list.push((await timed(['list'], repo)).ms);
  }
  return { add, list };
}

function cleanup() {
  if (!process.env.TSK_REDIS_URL) {
    try {
      execFileSync('docker', ['rm', '-f', redisContainer], { stdio: 'ignore' });
      execFileSync('docker', ['volume', 'rm', '-f', `${redisContainer}-data`], { stdio: 'ignore' });
    } catch {
      // already gone
    }
  }
  rmSync(work, { recursive: true, force: true });
}

try {
  const repo = makeRepo();
  // The embedded Redis starts (and its image builds) on first use: not part of any figure.
  await tsk(['list'], repo);

  // Baseline: starting the CLI at all (Node + oclif), which every command below pays.
  const startup = [];
  for (let i = 0; i < SAMPLES; i++) startup.push((await timed(['--version'], repo)).ms);
  const base = median(startup);
  const ratio = (value) => `${(value / base).toFixed(2)}x`;

  const starts = await addToStart(repo);
  await tsk(['clean'], repo);
  const empty = await commandLatencies(repo);
  await tsk(['clean'], repo);
  const fillStart = performance.now();
  await fillQueue(repo, QUEUED);
  const fillMs = performance.now() - fillStart;
  const full = await commandLatencies(repo);
  const listed = JSON.parse((await tsk(['list', '--json'], repo)).toString()).length;

  const cpus = execFileSync('nproc', { encoding: 'utf8' }).trim();
  console.log(`tsk queue overhead (${cpus} CPUs, ${process.env.TSK_REDIS_URL ? 'TSK_REDIS_URL' : 'embedded Redis'}, no-op agent, 1 worker)`);
  console.log('');
  console.log(`tsk add → container start (${RUNS} runs)         median ${ms(median(starts))}   p99 ${ms(percentile(starts, 99))}   min ${ms(Math.min(...starts))}`);
  console.log('');
  console.log(`command latency (${SAMPLES} samples each)    median        p99        vs tsk --version`);
  console.log(`  tsk --version (baseline)           ${ms(base)}   ${ms(percentile(startup, 99))}   1.00x`);
  console.log(`  tsk add,  empty queue              ${ms(median(empty.add))}   ${ms(percentile(empty.add, 99))}   ${ratio(median(empty.add))}`);
  console.log(`  tsk list, empty queue              ${ms(median(empty.list))}   ${ms(percentile(empty.list, 99))}   ${ratio(median(empty.list))}`);
  console.log(`  tsk add,  ${listed} tasks queued      ${ms(median(full.add))}   ${ms(percentile(full.add, 99))}   ${ratio(median(full.add))}`);
  console.log(`  tsk list, ${listed} tasks queued      ${ms(median(full.list))}   ${ms(percentile(full.list, 99))}   ${ratio(median(full.list))}`);
  console.log('');
  console.log(`(queued ${QUEUED} tasks through the engine in ${ms(fillMs)}: ${(fillMs / QUEUED).toFixed(1)} ms per task)`);
} finally {
  cleanup();
}
