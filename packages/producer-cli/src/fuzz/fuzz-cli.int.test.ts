import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
// Test-only: the schemas and the worker's options are what the cases are derived from.
import { sharedSchema, userSchema } from '../../../engine/src/config/schema.js';
import { startLocalRedis, type LocalRedis } from '../../../engine/src/test-utils/local-redis.js';
import { parseWorkerArgs, WORKER_OPTIONS } from '../../../worker/src/args.js';
import { TSK_BIN } from '../test-utils/run-tsk.js';
import { makeSimpleRepo } from '../test-utils/simple-repo.js';
import { configKeyShapes, loadCommandShapes, workerShape } from './command-shapes.js';
import { commandCases, configCases, sampleCases, templateCases, type FuzzCase } from './fuzz-cases.js';

// Input fuzzing (issue 12): every command's flags, every configuration key, broken templates, each
// refused with one `Error:` line, a non-zero exit, no stack trace, and nothing written. Each case runs
// the built binaries in a home and repository of its own. Docker is pointed at a socket that does not
// exist, so a malformed value that slips through can start nothing (and fails the case: its error is
// Docker's, or it exits 0); queue commands get a real Redis on loopback.
//
// TSK_FUZZ_CASES=N (or "all") and TSK_FUZZ_SEED=S choose how many cases run and which sample;
// TSK_FUZZ_MATCH=<regular expression> runs only the cases whose id it finds.

const WORKER_BIN = resolve(fileURLToPath(import.meta.url), '../../../../worker/bin/tsk-worker.js');
const REPO_NAME = 'fuzz-repo';
/** Enough to touch every family in a few minutes on a 2-core machine. */
const DEFAULT_CASES = 160;
const POOL = 4;
const CASE_TIMEOUT_MS = 60_000;

let redis: LocalRedis;
let root: string;
/** A repository and a tsk home (with a signing key) that every case starts from a copy of. */
let template: string;

function homeEnv(home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  // The user's own tsk settings must not reach a case.
  for (const [name, value] of Object.entries(process.env)) if (!name.startsWith('TSK_')) env[name] = value;
  return {
    ...env,
    TSK_CONFIG_HOME: join(home, 'config'),
    TSK_DATA_HOME: join(home, 'data'),
    TSK_RUNTIME_DIR: join(home, 'run'),
    TSK_REDIS_URL: redis.url,
    DOCKER_HOST: `unix://${join(home, 'no-docker.sock')}`,
    EDITOR: 'false',
    VISUAL: 'false',
    NO_COLOR: '1',
  };
}

/** Every file below `dir` with a digest of its content (links and modes too). */
function fileDigests(dir: string, base = dir, out = new Map<string, string>()): Map<string, string> {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of names) {
    const path = join(dir, name);
    const stat = statSync(path, { throwIfNoEntry: false });
    if (!stat) continue;
    if (stat.isDirectory()) {
      out.set(`${relative(base, path)}/`, String(stat.mode));
      fileDigests(path, base, out);
    } else out.set(relative(base, path), createHash('sha256').update(stat.isFile() ? readFileSync(path) : '').update(String(stat.mode)).digest('hex'));
  }
  return out;
}

/**
 * Everything a refused command must leave as it was: every ref (tsk's own too), HEAD, index, status and
 * every file, `.git`'s included (an object written means a snapshot was taken). Input taken by design
 * may leave the snapshot's unreferenced objects (git's gc removes them); its refs are compared still.
 */
function repoState(repo: string, fuzzCase: FuzzCase): Map<string, string> {
  // --no-optional-locks: `git status` must not refresh (write) the index it is checking.
  const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, encoding: 'utf8' });
  // The snapshot of input taken by design leaves its objects and the empty folders of its deleted ref.
  const leftBySnapshot = (path: string) => path.startsWith('.git/objects/') || path.startsWith('.git/refs/tsk/');
  const state = new Map([...fileDigests(repo)].filter(([path]) => fuzzCase.acceptedBecause === undefined || !leftBySnapshot(path)));
  state.set('(refs)', git('for-each-ref', '--format=%(refname) %(objectname)'));
  state.set('(git status)', git('--no-optional-locks', 'status', '--porcelain', '--ignored'));
  return state;
}

/** What differs between two states: added, removed or changed entries. */
function changed(before: Map<string, string>, after: Map<string, string>): string[] {
  return [...new Set([...before.keys(), ...after.keys()])].filter((key) => before.get(key) !== after.get(key));
}

function homeState(home: string): Map<string, string> {
  return fileDigests(home);
}

interface Outcome {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

function runCase(fuzzCase: FuzzCase, cwd: string, env: NodeJS.ProcessEnv): Promise<Outcome> {
  const bin = fuzzCase.bin === 'tsk-worker' ? WORKER_BIN : TSK_BIN;
  const child = spawn(process.execPath, [bin, ...fuzzCase.argv], { cwd, env: { ...env, ...fuzzCase.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let timedOut = false;
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  // A value that slipped through may start something long-lived (a worker): stop it by its pid.
  const timer = setTimeout(() => ((timedOut = true), child.kill('SIGKILL')), CASE_TIMEOUT_MS);
  return new Promise((resolveOutcome, reject) => {
    child.on('error', reject);
    child.on('close', (exitCode, signal) => {
      clearTimeout(timer);
      resolveOutcome({ exitCode, signal, stdout, stderr, timedOut });
    });
  });
}

const DOCKER_ERROR = /Docker engine|docker\.sock|no-docker/i;

/**
 * What is wrong with how tsk handled one case; empty when it refused it cleanly (or, for input taken by
 * design, went on to the missing Docker engine and failed there cleanly).
 */
function problemsOf(fuzzCase: FuzzCase, outcome: Outcome, repoChanged: string[], homeChanged: string[]): string[] {
  const problems: string[] = [];
  if (outcome.timedOut) problems.push(`still running after ${CASE_TIMEOUT_MS / 1000}s`);
  else if (outcome.exitCode === 0) problems.push('exit code 0 (accepted)');
  else if (outcome.exitCode === null) problems.push(`killed by ${outcome.signal}`);
  const lines = outcome.stderr.split('\n').filter((line) => line.trim());
  if (/^\s+at .+(:\d+:\d+\)?|\(node:)/m.test(outcome.stderr + outcome.stdout)) problems.push('stack trace');
  if (fuzzCase.acceptedBecause !== undefined) {
    const last = lines[lines.length - 1] ?? '';
    if (!last.startsWith('Error: ') || !DOCKER_ERROR.test(last)) problems.push(`accepted by design, but did not go on to Docker: ${JSON.stringify(outcome.stderr.slice(-400))}`);
  } else if (lines.length !== 1 || !lines[0]!.startsWith('Error: ')) problems.push(`stderr is not one "Error:" line: ${JSON.stringify(outcome.stderr.slice(0, 400))}`);
  else if (DOCKER_ERROR.test(lines[0]!)) problems.push(`reached Docker: ${lines[0]!.slice(0, 200)}`);
  if (repoChanged.length > 0) problems.push(`the repository changed: ${repoChanged.slice(0, 5).join(', ')}`);
  if (homeChanged.length > 0) problems.push(`wrote in the tsk home: ${homeChanged.slice(0, 5).join(', ')}`);
  return problems;
}

async function check(fuzzCase: FuzzCase, index: number): Promise<string[]> {
  const dir = join(root, `case-${index}`);
  cpSync(template, dir, { recursive: true });
  const repo = join(dir, REPO_NAME);
  const home = join(dir, 'home');
  for (const file of fuzzCase.files ?? []) {
    const path = join(file.root === 'repo' ? repo : join(home, 'config'), file.path);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, file.text);
  }
  try {
    const repoBefore = repoState(repo, fuzzCase);
    const homeBefore = homeState(home);
    const outcome = await runCase(fuzzCase, repo, homeEnv(home));
    const homeAfter = homeState(home);
    const added = changed(homeBefore, homeAfter).filter((path) => !expectedInHome(path));
    return problemsOf(fuzzCase, outcome, changed(repoBefore, repoState(repo, fuzzCase)), added);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** What a refused command may still leave in its home: none yet (each entry says why). */
function expectedInHome(_path: string): boolean {
  return false;
}

async function allCases(): Promise<FuzzCase[]> {
  const commands = await loadCommandShapes();
  commands.push(workerShape(WORKER_OPTIONS, parseWorkerArgs));
  return [
    ...commands.flatMap(commandCases),
    ...configCases(configKeyShapes(userSchema), configKeyShapes(sharedSchema), REPO_NAME),
    ...templateCases(),
  ];
}

beforeAll(async () => {
  redis = await startLocalRedis();
  root = mkdtempSync(join(tmpdir(), 'tsk-fuzz-'));
  template = join(root, 'template');
  makeSimpleRepo(join(template, REPO_NAME));
  const home = join(template, 'home');
  // A signing key made once: commands that sign create one on first use, which is not the fuzzed input's doing.
  execFileSync(process.execPath, [TSK_BIN, 'key', 'init'], { env: homeEnv(home), stdio: 'ignore' });
});

afterAll(async () => {
  await redis?.stop();
  if (root) rmSync(root, { recursive: true, force: true });
});

it('refuses every malformed input with one line, exit 1, no stack trace and nothing written', async () => {
  // TSK_FUZZ_MATCH=<regular expression>: only the cases whose id it finds (to run failures again).
  const match = process.env.TSK_FUZZ_MATCH ? new RegExp(process.env.TSK_FUZZ_MATCH) : undefined;
  const cases = (await allCases()).filter((fuzzCase) => match === undefined || match.test(fuzzCase.id));
  const wanted = process.env.TSK_FUZZ_CASES;
  const count = wanted === 'all' ? cases.length : wanted ? Number(wanted) : DEFAULT_CASES;
  const seed = process.env.TSK_FUZZ_SEED ? Number(process.env.TSK_FUZZ_SEED) : 12;
  const chosen = sampleCases(cases, count, seed);
  const failures: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < chosen.length) {
      const index = next++;
      const fuzzCase = chosen[index]!;
      const problems = await check(fuzzCase, index);
      if (problems.length === 0) continue;
      const failure = `${fuzzCase.id.slice(0, 160)}\n    ${problems.join('\n    ')}`;
      failures.push(failure);
      // As they come: a long run (TSK_FUZZ_CASES=all) shows its failures before it ends.
      process.stderr.write(`fuzz: FAILED ${failure}\n`);
    }
  };
  await Promise.all(Array.from({ length: POOL }, worker));
  // A refused `tsk add` queues nothing.
  const listed = execFileSync(process.execPath, [TSK_BIN, 'list', '--json'], { env: homeEnv(join(template, 'home')), encoding: 'utf8' });
  if ((JSON.parse(listed) as unknown[]).length > 0) failures.push(`the queue holds tasks: ${listed.slice(0, 400)}`);
  console.log(`fuzz: ${chosen.length} of ${cases.length} cases tried (seed ${seed}), ${failures.length} failed`);
  expect(failures, `${failures.length} of ${chosen.length} cases failed:\n${failures.join('\n')}`).toEqual([]);
  // A case takes about a second of one core; a full run (TSK_FUZZ_CASES=all) takes longer than the default timeout.
}, 4 * 3600_000);
