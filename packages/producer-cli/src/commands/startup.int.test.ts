import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTskHome, runTsk, type TskHome, type TskRunResult } from '../test-utils/run-tsk.js';

/**
 * What the built `tsk` loads to start: quick commands (version, help, a task list) load no nodegit, no
 * Docker client and (for version and help) no engine at all. Checked by recording every module the
 * process resolves, ESM and CommonJS alike, through a preloaded hook: a real list of what was loaded,
 * not a timing (timings are in `npm run bench`).
 */

const HEAVY = ['nodegit', 'dockerode', 'bullmq', 'ioredis'];
const PACKAGE_ROOT = resolve(fileURLToPath(import.meta.url), '../../..');
const MANIFEST = join(PACKAGE_ROOT, 'oclif.manifest.json');

// Runs in the loader thread: records each resolved URL.
const HOOKS = `
import { appendFileSync } from 'node:fs';
let file;
export function initialize(data) { file = data.file; }
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  appendFileSync(file, result.url + '\\n');
  return result;
}
`;
// Preloaded with --import: registers the hooks, and records CommonJS requires (a CommonJS package's own
// dependencies never reach the ESM hooks).
const PRELOAD = `
import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
const file = process.env.TSK_TEST_IMPORTS;
register(new URL('./hooks.mjs', import.meta.url), { data: { file } });
const Module = createRequire(import.meta.url)('node:module');
const load = Module._load;
Module._load = function (request, parent, isMain) {
  const loaded = load.apply(this, arguments);
  try { appendFileSync(file, Module._resolveFilename(request, parent, isMain) + '\\n'); } catch {}
  return loaded;
};
`;

let dir: string;
let home: TskHome;
let runs = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tsk-startup-'));
  await writeFile(join(dir, 'hooks.mjs'), HOOKS);
  await writeFile(join(dir, 'preload.mjs'), PRELOAD);
  home = await makeTskHome();
});

afterAll(async () => {
  await home?.cleanup();
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface Recorded extends TskRunResult {
  /** Every package under node_modules the process loaded (`@scope/name` or `name`). */
  packages: Set<string>;
  /** Whether any of the engine's own modules was loaded. */
  engine: boolean;
}

/**
 * Run the built `tsk` with the recording preload. A run first brings the manifest up to date with the
 * build (loading every command, see oclif-manifest.ts): one `tsk --version` before does that part.
 */
async function recorded(args: string[], env: NodeJS.ProcessEnv = home.env): Promise<Recorded> {
  await runTsk(['--version'], { env });
  const file = join(dir, `imports-${runs++}.txt`);
  await writeFile(file, '');
  const result = await runTsk(args, { env: { ...env, TSK_TEST_IMPORTS: file, NODE_OPTIONS: `--import=${join(dir, 'preload.mjs')}` }, cwd: dir });
  const paths = (await readFile(file, 'utf8')).split('\n').filter(Boolean);
  const packages = new Set(paths.flatMap((path) => [...path.matchAll(/\/node_modules\/((?:@[^/]+\/)?[^/]+)\//g)].map((match) => match[1] ?? '')));
  return { ...result, packages, engine: paths.some((path) => /\/packages\/engine\/(dist|src)\//.test(path) || path.includes('/@tsk/engine/')) };
}

function heavyIn(run: Recorded): string[] {
  return HEAVY.filter((name) => run.packages.has(name));
}

describe('tsk start-up loads only what the command needs', () => {
  it('--version, --help and a command\'s --help load no engine module, nodegit, Docker client or BullMQ', async () => {
    for (const args of [['--version'], ['--help'], ['list', '--help'], ['add', '--help'], ['run', '--help']]) {
      const run = await recorded(args);
      expect(run.exitCode, `${args.join(' ')}: ${run.stderr}`).toBe(0);
      expect(run.packages.has('@oclif/core'), 'the recorder sees oclif').toBe(true);
      expect(heavyIn(run), args.join(' ')).toEqual([]);
      expect(run.engine, args.join(' ')).toBe(false);
    }
  });

  it('tsk add loads what creating a task needs: no nodegit, no Docker client (the recorder sees ioredis: the check can fail)', async () => {
    // It loads task creation before it fails (on a Redis that is not there: no Docker, no container).
    const run = await recorded(['add', '-p', 'x'], { ...home.env, TSK_REDIS_URL: 'redis://127.0.0.1:1' });
    expect(run.exitCode).toBe(1);
    expect(run.engine).toBe(true);
    // git's CLI finds the repository and snapshots it; the image is planned without a Docker client.
    expect(heavyIn(run)).toEqual(['ioredis']);
  });

  it('a manifest of another build is written again before the command runs', async () => {
    const good = JSON.parse(await readFile(MANIFEST, 'utf8')) as { commands: Record<string, unknown>; version: string; tskBuild: string };
    // Any tsk started meanwhile (other tests) sees a foreign fingerprint too and writes it again itself.
    await writeFile(MANIFEST, JSON.stringify({ version: good.version, tskBuild: 'another build', commands: { ghost: { id: 'ghost', flags: {}, args: {}, aliases: [], hidden: false, pluginType: 'core' } } }));
    const help = await runTsk(['--help'], { env: home.env });
    expect(help.exitCode, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/^ {2}list /m);
    expect(help.stdout).not.toMatch(/ghost/);
    const rewritten = JSON.parse(await readFile(MANIFEST, 'utf8')) as typeof good;
    expect(rewritten.tskBuild).toBe(good.tskBuild);
    expect(Object.keys(rewritten.commands).sort()).toEqual(Object.keys(good.commands).sort());
  });

  it('tsk list finds a running embedded Redis without Docker: no nodegit, no Docker client, no BullMQ for an empty queue', async () => {
    const name = `tsk-redis-startup-${process.pid}`;
    const env: NodeJS.ProcessEnv = { ...home.env, TSK_REDIS_CONTAINER: name };
    delete env.TSK_REDIS_URL;
    try {
      // First use: Docker starts it (and the URL is recorded).
      const first = await recorded(['list'], env);
      expect(first.exitCode, first.stderr).toBe(0);
      expect(first.stdout).toBe('No tasks\n');
      expect(first.packages.has('dockerode')).toBe(true);

      const again = await recorded(['list', '--json'], env);
      expect(again.exitCode, again.stderr).toBe(0);
      expect(JSON.parse(again.stdout)).toEqual([]);
      expect(again.packages.has('ioredis')).toBe(true);
      expect(heavyIn(again)).toEqual(['ioredis']);

      // Gone (its volume stays): the record no longer answers and Docker is asked again.
      execFileSync('docker', ['rm', '-f', name], { stdio: 'ignore' });
      const recreated = await recorded(['list'], env);
      expect(recreated.exitCode, recreated.stderr).toBe(0);
      expect(recreated.packages.has('dockerode')).toBe(true);
      const after = await recorded(['list'], env);
      expect(after.exitCode, after.stderr).toBe(0);
      expect(after.packages.has('dockerode')).toBe(false);
    } finally {
      execFileSync('docker', ['rm', '-f', name], { stdio: 'ignore' });
      execFileSync('docker', ['volume', 'rm', '-f', `${name}-data`], { stdio: 'ignore' });
    }
  });
});
