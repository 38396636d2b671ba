import { execFileSync } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { assetsRoot, lockDomain, planProxyImage, proxyFingerprint } from '@tsk/engine';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeSimpleRepo } from '../../test-utils/simple-repo.js';
import { makeTskHome, startTsk, TSK_BIN, type TskHome, type TskRunResult } from '../../test-utils/run-tsk.js';

// Finding: every tsk process of a machine used to meet in one world-writable folder, /tmp/tsk-locks,
// where a lock counts as held while the pid it names lives. Any local user could plant a lock naming
// pid 1 and block every task for good. This test plants exactly such locks, as another user, under the
// names tsk used for this task's image and proxy, and expects `tsk run` to finish regardless.

const PROJECT = `tsk-planted-${randomUUID().slice(0, 8)}`;
const PLANTED_DIR = '/tmp/tsk-locks';
/** A blocked tsk waits forever; a free one builds a small image layer and runs a one-line script. */
const PROMPTLY_MS = 180_000;

function docker(...args: string[]): string {
  return execFileSync('docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

function dockerLines(...args: string[]): string[] {
  return docker(...args).split('\n').filter(Boolean);
}

/** The image lock's file name as tsk gave it when locks were machine-wide (image-builder.ts). */
function legacyImageLockName(tag: string): string {
  return `${tag.replace(/[^A-Za-z0-9._-]/g, '_')}.lock`;
}

/** The proxy lock's file name as tsk gave it when proxies were machine-wide (fingerprint format v1, no uid). */
function legacyProxyLockName(hostPorts: number[], squidConf: string, image: string): string {
  const hash = createHash('sha256').update(JSON.stringify({ format: 'tsk-proxy-v1', hostPorts, squidConf, image }));
  return `proxy-${hash.digest('hex').slice(0, 12)}.lock`;
}

/** `tsk run` to its end, or killed (and reported) when it is still running after `ms`. */
async function finishesWithin(tsk: ReturnType<typeof startTsk>, ms: number): Promise<TskRunResult> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), ms)));
  const outcome = await Promise.race([tsk.done, late]);
  clearTimeout(timer);
  if (outcome !== 'late') return outcome;
  tsk.child.kill('SIGTERM');
  const killTimer = setTimeout(() => tsk.child.kill('SIGKILL'), 30_000);
  const result = await tsk.done;
  clearTimeout(killTimer);
  throw new Error(`tsk run was still running after ${ms / 1000}s (blocked by a planted lock?)\nstderr:\n${result.stderr}`);
}

describe.runIf(process.getuid?.() === 0)('locks planted by another local user (tsk run, real Docker)', () => {
  let home: TskHome;
  let root: string;
  let repo: string;
  let squidConf: string;
  let proxyImage: string;
  let createdPlantedDir = false;
  const planted: string[] = [];
  const existingImages = new Set<string>();

  /** Put a lock file into the shared folder, owned by `nobody`, that claims pid 1 (alive) on this host. */
  function plant(name: string): void {
    const path = join(PLANTED_DIR, name);
    const holder = { pid: 1, host: hostname(), token: `planted-${randomUUID()}`, since: new Date().toISOString() };
    writeFileSync(path, JSON.stringify(holder), { flag: 'wx', mode: 0o644 });
    planted.push(path);
    chownSync(path, nobody(), nobody());
  }

  function nobody(): number {
    return Number(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).trim());
  }

  beforeAll(async () => {
    home = await makeTskHome();
    // Only tsk's defaults decide where its locks are: no override, and the system's temporary folder.
    delete home.env.TSK_LOCK_DIR;
    delete home.env.TMPDIR;
    root = mkdtempSync(join(tmpdir(), 'tsk-planted-'));
    repo = makeSimpleRepo(join(root, 'repo'));
    for (const image of dockerLines('images', '--format', '{{.Repository}}:{{.Tag}}')) existingImages.add(image);

    // A proxy configuration of this test's own: the planted proxy lock names no one else's proxy.
    const plan = await planProxyImage(join(assetsRoot(), 'squid'));
    proxyImage = plan.tag;
    squidConf = `${plan.defaultSquidConf}\n# planted locks (${randomUUID()})\n`;
    mkdirSync(join(home.dir, 'config', 'tsk'), { recursive: true });
    writeFileSync(join(home.dir, 'config', 'tsk', 'tsk.toml'), `[defaults]\nsquid_conf = '''\n${squidConf}'''\n`);
  });

  afterAll(async () => {
    // Only what this test planted; the folder too if the test made it (and nobody else put files there).
    for (const path of planted) rmSync(path, { force: true });
    if (createdPlantedDir) {
      try {
        rmdirSync(PLANTED_DIR);
      } catch {
        // someone else's locks are in it now
      }
    }
    const fingerprint = proxyFingerprint({ hostPorts: [], squidConf }, proxyImage, lockDomain(join(home.dir, 'data', 'tsk', 'locks')));
    for (const container of dockerLines('ps', '-aq', '--filter', `label=tsk.proxy=${fingerprint}`)) docker('rm', '-f', container);
    for (const network of dockerLines('network', 'ls', '-q', '--filter', `label=tsk.proxy=${fingerprint}`)) docker('network', 'rm', network);
    for (const image of dockerLines('images', '--format', '{{.Repository}}:{{.Tag}}')) {
      if (!existingImages.has(image) && image.startsWith(`tsk/${PROJECT}/`)) docker('rmi', image);
    }
    await home?.cleanup();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it("should run a task although the machine's old shared lock folder holds another user's locks on its image and proxy", async () => {
    // The tag `tsk run` will build (it does not exist yet: the project name is new).
    const dryRun = execFileSync(process.execPath, [TSK_BIN, 'docker', 'build', '--dry-run', '--repo', repo, '--project', PROJECT, '--agent', 'script'], {
      env: home.env,
      encoding: 'utf8',
    });
    const tag = /^# image (\S+)$/m.exec(dryRun)?.[1];
    expect(tag).toMatch(new RegExp(`^tsk/${PROJECT}/`));

    // The shared folder as another user leaves it; one that is already there (made by some tsk of this
    // machine, and maybe in use) keeps its owner and mode: it is world-writable either way.
    if (!existsSync(PLANTED_DIR)) {
      mkdirSync(PLANTED_DIR);
      createdPlantedDir = true;
      chownSync(PLANTED_DIR, nobody(), nobody());
      chmodSync(PLANTED_DIR, 0o777);
    }
    plant(legacyImageLockName(tag!));
    plant(legacyProxyLockName([], squidConf, proxyImage));

    const started = Date.now();
    const tsk = startTsk(['run', '--repo', repo, '--json', '--project', PROJECT, '--agent', 'script', '-n', 'planted', '-p', 'echo planted-locks-ok'], {
      env: home.env,
    });
    const result = await finishesWithin(tsk, PROMPTLY_MS);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stderr).toContain('planted-locks-ok');
    expect(result.stderr).not.toMatch(/Waiting for the build/);
    // The task really used the image and (isolated) the proxy whose locks were planted.
    expect(result.stderr).toContain(`Building image ${tag}`);
    expect(result.stderr).toMatch(/Started network proxy tsk-proxy-[0-9a-f]{12}/);
    expect(Date.now() - started).toBeLessThan(PROMPTLY_MS);

    // tsk took its locks in the user's own folder, closed to everyone else; the planted ones are untouched.
    const locks = join(home.dir, 'data', 'tsk', 'locks');
    expect(statSync(locks).mode & 0o7777).toBe(0o700);
    for (const path of planted) expect(JSON.parse(readFileSync(path, 'utf8'))).toMatchObject({ pid: 1 });
  });
});
