// What every benchmark section shares: the throwaway tsk home, processes it starts (tracked by pid so
// Ctrl+C ends exactly them), fixture repositories, Docker events, paired timing and the clean-up of
// everything a run made (workers, containers, networks, volumes, the embedded Redis, temp dirs).
import { execFile, execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

export const root = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
export const tskBin = join(root, 'packages/producer-cli/bin/run.js');
export const workerBin = join(root, 'packages/worker/bin/tsk-worker.js');
export const engineEntry = join(root, 'packages/engine/dist/index.js');

// ---------------------------------------------------------------- statistics

export const sorted = (values) => [...values].sort((a, b) => a - b);
export const median = (values) => {
  const s = sorted(values);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};
/** Nearest-rank percentile: with fewer than 100 samples p99 is the slowest one. */
export const percentile = (values, p) => sorted(values)[Math.min(values.length - 1, Math.max(0, Math.ceil((p / 100) * values.length) - 1))];

// ---------------------------------------------------------------- processes

const children = new Map(); // pid → ChildProcess
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
export { sleep };

/** spawn(), remembered by pid until it exits, so an interrupted run can end exactly its own children. */
export function track(child) {
  if (child.pid !== undefined) {
    children.set(child.pid, child);
    child.once('exit', () => children.delete(child.pid));
  }
  return child;
}

export function exited(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** SIGTERM, then SIGKILL after `graceMs`: workers get the chance to cancel their sandboxes first. */
export async function stopChild(child, graceMs = 30_000) {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  try {
    process.kill(child.pid, 'SIGTERM');
  } catch {
    return;
  }
  const timer = setTimeout(() => {
    try {
      process.kill(child.pid, 'SIGKILL');
    } catch {
      // gone
    }
  }, graceMs);
  await exited(child);
  clearTimeout(timer);
}

/** Run a command to its end; resolves { ms, code, stdout, stderr }, rejects on a non-zero exit unless `allowFail`. */
export function run(command, argv, options = {}) {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = track(spawn(command, argv, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] }));
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = performance.now() - start;
      if (code === 0 || options.allowFail) resolve({ ms, code, stdout, stderr });
      else reject(new Error(`${basename(command)} ${argv.join(' ')} failed (${code}):\n${stderr || stdout}`));
    });
  });
}

export const nodeBaseline = () => run(process.execPath, ['-e', '']);

// ---------------------------------------------------------------- the run's context

/**
 * One benchmark run: a temp folder holding tsk's config, data and runtime dirs (so nothing touches the
 * user's tsk), its own embedded Redis container, and a record of what to remove at the end.
 */
export function createContext({ quick }) {
  const work = mkdtempSync(join(tmpdir(), 'tsk-bench-'));
  const tag = `tskbench-${process.pid}`;
  const home = join(work, 'home');
  const env = {
    ...process.env,
    TSK_CONFIG_HOME: join(home, 'config'),
    TSK_DATA_HOME: join(home, 'data'),
    TSK_RUNTIME_DIR: join(home, 'run'),
    TSK_REDIS_CONTAINER: `${tag}-redis`,
    NO_COLOR: '1',
  };
  delete env.TSK_REDIS_URL;
  delete env.TSK_REMOTE_URL;
  delete env.TSK_LOCK_DIR; // the lock domain (and so the clean-up) follows this run's data dir
  const repos = new Map();
  let containerCount = 0;
  const ctx = {
    quick,
    work,
    tag,
    env,
    figures: [],
    notes: [],
    progress: (line) => process.stderr.write(`[bench] ${line}\n`),
    /** `tsk …` as a user runs it (bin/run.js under this Node). */
    tsk: (argv, options = {}) => run(process.execPath, [tskBin, ...argv], { env, cwd: options.cwd ?? work, allowFail: options.allowFail }),
    /** A started `tsk …` that keeps running (tsk logs -f, tsk run), tracked. */
    spawnTsk: (argv, options = {}) => track(spawn(process.execPath, [tskBin, ...argv], { env, cwd: options.cwd ?? work, stdio: ['ignore', 'pipe', 'pipe'] })),
    /** A real `tsk-worker` process (one task at a time unless told), tracked; resolves once it says it is ready. */
    async startWorker(index, { concurrency = 1, cwd } = {}) {
      const child = track(
        spawn(process.execPath, [workerBin, '-w', String(concurrency), '--no-health', '--grace', '30', '--name', `${tag}-w${index}`], {
          env,
          cwd: cwd ?? work,
          stdio: ['ignore', 'pipe', 'pipe'],
        }),
      );
      let output = '';
      child.stdout.on('data', (d) => (output += d));
      child.stderr.on('data', (d) => (output += d));
      const deadline = Date.now() + 300_000;
      while (!output.includes(' ready: ')) {
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`tsk-worker exited (${child.exitCode ?? child.signalCode}):\n${output}`);
        if (Date.now() > deadline) throw new Error(`tsk-worker not ready after 300 s:\n${output}`);
        await sleep(20);
      }
      child.output = () => output;
      return child;
    },
    /** A bench container's name (Docker baselines), known to the clean-up. */
    containerName: () => `${tag}-c${++containerCount}`,
    /** A git repository of `files` files (100 per folder) with a few edits and untracked files, made once per run. */
    repo(files, name = `bench-${files >= 1000 ? `${files / 1000}k` : files}`) {
      const key = `${name}:${files}`;
      if (!repos.has(key)) repos.set(key, makeRepo(join(work, 'repos', name), files));
      return repos.get(key);
    },
    engine: () => import(engineEntry),
  };
  return ctx;
}

function makeRepo(repo, files) {
  mkdirSync(repo, { recursive: true });
  const git = (...a) => execFileSync('git', a, { cwd: repo, stdio: ['ignore', 'ignore', 'pipe'] });
  git('init', '-q', '-b', 'main');
  git('config', 'user.name', 'bench');
  git('config', 'user.email', 'bench@example.com');
  // No background `gc --auto` racing the copies below; the history is packed once, as a user's is.
  git('config', 'gc.auto', '0');
  const perDir = 100;
  for (let d = 0; d < Math.ceil(files / perDir); d++) {
    const dir = join(repo, 'src', `module-${d}`);
    mkdirSync(dir, { recursive: true });
    for (let f = 0; f < perDir && d * perDir + f < files; f++) {
      writeFileSync(join(dir, `file-${f}.ts`), `export const value${f} = ${d * perDir + f};\n`.repeat(20));
    }
  }
  git('add', '-A');
  git('commit', '-q', '-m', 'bench fixture');
  git('gc', '-q');
  // Users run tsk on trees with work in progress: a few edits and untracked files.
  const edits = Math.min(20, Math.ceil(files / perDir));
  for (let i = 0; i < edits; i++) writeFileSync(join(repo, 'src', `module-${i}`, 'file-0.ts'), `// edited ${i}\n`);
  for (let i = 0; i < 20; i++) writeFileSync(join(repo, `untracked-${i}.txt`), `new ${i}\n`);
  return repo;
}

// ---------------------------------------------------------------- Docker

const docker = (argv) =>
  new Promise((resolve) => execFile('docker', argv, { maxBuffer: 64 * 1024 * 1024 }, (error, stdout) => resolve(error ? '' : stdout.toString())));

/**
 * Docker's container events (`start` unless told) as they come: action, name, tsk task id, image and
 * wall-clock ms (Docker's own clock, the same host clock as Date.now()).
 */
export function watchContainerStarts(actions = ['start']) {
  const starts = [];
  const filters = actions.flatMap((action) => ['--filter', `event=${action}`]);
  const events = track(spawn('docker', ['events', '--filter', 'type=container', ...filters, '--format', '{{json .}}']));
  let pending = '';
  events.stdout.on('data', (chunk) => {
    const lines = (pending + chunk).split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      try {
        const event = JSON.parse(line);
        const attributes = event.Actor?.Attributes ?? {};
        starts.push({ action: event.status ?? event.Action, name: attributes.name, task: attributes['tsk.task'], image: event.from ?? attributes.image, at: Number(BigInt(event.timeNano) / 1_000_000n) });
      } catch {
        // not an event line
      }
    }
  });
  // `docker events` prints nothing until something happens: give it a moment to subscribe.
  const ready = sleep(300);
  return {
    ready,
    find: (predicate) => starts.find(predicate),
    async waitFor(what, predicate, timeoutMs = 300_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = starts.find(predicate);
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await sleep(10);
      }
    },
    stop: () => stopChild(events, 2_000),
  };
}

// ---------------------------------------------------------------- clean-up

/**
 * Remove everything this run made: its own processes (by pid), then the Docker objects that are
 * provably its own — its bench containers and Redis by name, tsk's proxies and networks by the lock
 * domain of this run's data dir, sandboxes by their worker name or a mount from this run's folder,
 * volumes whose options or labels name this run's folder — and last the folder itself.
 * Nothing of other tsk users on the same engine matches any of these.
 */
export async function cleanUp(ctx) {
  await Promise.all([...children.values()].map((child) => stopChild(child, 15_000)));
  const lockDir = join(ctx.env.TSK_DATA_HOME, 'tsk', 'locks');
  const domain = createHash('sha256').update(`${process.getuid?.() ?? 0}\0${lockDir}`).digest('hex').slice(0, 12);
  const ids = (await docker(['ps', '-aq', '--no-trunc'])).split('\n').filter(Boolean);
  const mine = [];
  if (ids.length > 0) {
    const infos = JSON.parse((await docker(['inspect', ...ids])) || '[]');
    for (const info of infos) {
      const name = (info.Name ?? '').replace(/^\//, '');
      const labels = info.Config?.Labels ?? {};
      const ours =
        name.startsWith(ctx.tag) ||
        labels['tsk.locks'] === domain ||
        (labels['tsk.worker'] ?? '').startsWith(ctx.tag) ||
        (info.Mounts ?? []).some((m) => (m.Source ?? '').startsWith(ctx.work));
      if (ours) mine.push(info.Id);
    }
  }
  if (mine.length > 0) await docker(['rm', '-f', '-v', ...mine]);
  const networks = (await docker(['network', 'ls', '-q', '--filter', `label=tsk.locks=${domain}`])).split('\n').filter(Boolean);
  if (networks.length > 0) await docker(['network', 'rm', ...networks]);
  const volumes = (await docker(['volume', 'ls', '-q'])).split('\n').filter(Boolean);
  const ourVolumes = volumes.filter((v) => v.startsWith(ctx.tag));
  const candidates = volumes.filter((v) => !v.startsWith(ctx.tag));
  if (candidates.length > 0) {
    const infos = JSON.parse((await docker(['volume', 'inspect', ...candidates])) || '[]');
    for (const info of infos) {
      const said = JSON.stringify({ options: info.Options ?? {}, labels: info.Labels ?? {} });
      if (said.includes(ctx.work)) ourVolumes.push(info.Name);
    }
  }
  if (ourVolumes.length > 0) await docker(['volume', 'rm', '-f', ...ourVolumes]);
  try {
    rmSync(ctx.work, { recursive: true, force: true, maxRetries: 3 });
  } catch (error) {
    process.stderr.write(`[bench] could not remove ${ctx.work}: ${error.message}\n`);
  }
  return { containers: mine.length, networks: networks.length, volumes: ourVolumes.length };
}

export function machine() {
  const version = (argv) => {
    try {
      return execFileSync(argv[0], argv.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      return 'unknown';
    }
  };
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    node: process.version,
    docker: version(['docker', 'version', '--format', '{{.Server.Version}}']),
    kernel: version(['uname', '-r']),
    commit: version(['git', '-C', root, 'rev-parse', '--short', 'HEAD']),
  };
}
