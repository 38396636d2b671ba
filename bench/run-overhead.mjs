#!/usr/bin/env node
// Task overhead of `tsk run` on a repository of 10,000 files, with the `no-op` agent:
//   - time from starting `tsk run` to the agent's first output line, and the whole run;
//   - the snapshot + workspace clone step against a plain `cp -a` of the same tree, in the same run.
// Figures are printed, never asserted. Usage: node bench/run-overhead.mjs [--files 10000] [--runs 5]
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const { createSnapshot, deleteSnapshotRef, prepareWorkspace, silentSink } = await import(join(root, 'packages/engine/dist/index.js'));
const tskBin = join(root, 'packages/producer-cli/bin/run.js');

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? Number(args[at + 1]) : fallback;
};
const FILES = option('files', 10_000);
const RUNS = option('runs', 5);

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const ms = (value) => `${value.toFixed(0)} ms`;
const git = (cwd, ...a) => execFileSync('git', a, { cwd, encoding: 'utf8' }).trim();

const work = mkdtempSync(join(tmpdir(), 'tsk-bench-'));
const home = join(work, 'home');
const env = { ...process.env, TSK_CONFIG_HOME: join(home, 'config'), TSK_DATA_HOME: join(home, 'data'), TSK_RUNTIME_DIR: join(home, 'run'), NO_COLOR: '1' };

function makeRepo() {
  const repo = join(work, 'repo');
  mkdirSync(repo);
  git(repo, 'init', '-q', '-b', 'main');
  git(repo, 'config', 'user.name', 'bench');
  git(repo, 'config', 'user.email', 'bench@example.com');
  const perDir = 100;
  for (let d = 0; d < Math.ceil(FILES / perDir); d++) {
    const dir = join(repo, 'src', `module-${d}`);
    mkdirSync(dir, { recursive: true });
    for (let f = 0; f < perDir && d * perDir + f < FILES; f++) {
      writeFileSync(join(dir, `file-${f}.ts`), `export const value${f} = ${d * perDir + f};\n`.repeat(20));
    }
  }
  git(repo, 'add', '-A');
  git(repo, 'commit', '-q', '-m', 'bench fixture');
  // Users run tsk on trees with work in progress: a few edits and untracked files.
  for (let i = 0; i < 20; i++) writeFileSync(join(repo, 'src', `module-${i}`, 'file-0.ts'), `// edited ${i}\n`);
  for (let i = 0; i < 20; i++) writeFileSync(join(repo, `untracked-${i}.txt`), `new ${i}\n`);
  return repo;
}

function timeCopy(repo) {
  const target = join(work, 'copy');
  const start = performance.now();
  execFileSync('cp', ['-a', repo, target]);
  const elapsed = performance.now() - start;
  rmSync(target, { recursive: true, force: true });
  return elapsed;
}

async function timeSnapshotAndClone(repo, i) {
  const taskId = `bench${String(i).padStart(3, '0')}`;
  const dir = join(work, `ws-${i}`);
  const start = performance.now();
  const snapshot = await createSnapshot({ repoPath: repo, taskId, log: silentSink });
  await prepareWorkspace({
    source: { kind: 'local', repoPath: snapshot.repoPath, ref: snapshot.ref, commit: snapshot.commit },
    dir,
    branch: `tsk/bench/clone/${taskId}`,
    log: silentSink,
  });
  const elapsed = performance.now() - start;
  await deleteSnapshotRef(repo, taskId);
  rmSync(dir, { recursive: true, force: true });
  return elapsed;
}

/** Start `tsk run` and time the first agent line (the marker) and the whole run. */
function timeTskRun(repo) {
  return new Promise((resolve, reject) => {
    const marker = `BENCH-FIRST-LINE-${Date.now()}`;
    const start = performance.now();
    let firstLine;
    const child = spawn(process.execPath, [tskBin, 'run', '--repo', repo, '--agent', 'no-op', '-n', 'bench', '-p', marker], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      if (firstLine === undefined && chunk.toString().includes(marker)) firstLine = performance.now() - start;
    });
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0 || firstLine === undefined) reject(new Error(`tsk run failed (${code}):\n${stderr}`));
      else resolve({ firstLine, total: performance.now() - start });
    });
  });
}

try {
  process.stderr.write(`Creating a repository of ${FILES} files…\n`);
  const repo = makeRepo();
  process.stderr.write('Warm-up run (builds the no-op image if needed)…\n');
  await timeTskRun(repo);

  const copies = [];
  const clones = [];
  const runs = [];
  for (let i = 0; i < RUNS; i++) {
    process.stderr.write(`Round ${i + 1}/${RUNS}\n`);
    copies.push(timeCopy(repo));
    clones.push(await timeSnapshotAndClone(repo, i));
    runs.push(await timeTskRun(repo));
  }
  const copy = median(copies);
  const clone = median(clones);
  console.log(`tsk run overhead, ${FILES}-file repository, no-op agent, median of ${RUNS} runs`);
  console.log(`  cp -a of the tree (baseline)      ${ms(copy)}`);
  console.log(`  snapshot + workspace clone        ${ms(clone)}   (${(clone / copy).toFixed(2)}x cp -a)`);
  console.log(`  tsk run → first agent output line ${ms(median(runs.map((r) => r.firstLine)))}`);
  console.log(`  tsk run total (task overhead)     ${ms(median(runs.map((r) => r.total)))}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
