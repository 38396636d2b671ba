import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { lockDomain } from '@tsk/engine';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeSimpleRepo } from '../../test-utils/simple-repo.js';
import { makeTskHome, runTsk, startTsk, type TskHome } from '../../test-utils/run-tsk.js';

// Only loopback and the networks tsk makes for these tasks: the agents here send nothing anywhere.

function docker(...args: string[]): string {
  return execFileSync('docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

function lines(text: string): string[] {
  return text.split('\n').filter(Boolean).sort();
}

/** Whether a process runs (a zombie nobody has reaped yet has exited). */
function running(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Poll `done` until it holds; fail after a generous ceiling (this is no timing test). */
async function eventually(what: string, done: () => boolean, ceilingMs = 90_000): Promise<void> {
  const until = Date.now() + ceilingMs;
  while (!done()) {
    if (Date.now() > until) throw new Error(`${what}: not after ${ceilingMs}ms`);
    await sleep(250);
  }
}

describe('idle reaper of a warm proxy (tsk run, real Docker)', () => {
  const homes: TskHome[] = [];
  let root: string;
  let repo: string;

  async function newHome(): Promise<{ home: TskHome; lockDir: string; domain: string }> {
    const home = await makeTskHome({ TSK_PROXY_IDLE_TIMEOUT: '3s' });
    homes.push(home);
    const lockDir = join(home.dir, 'data', 'tsk', 'locks');
    return { home, lockDir, domain: lockDomain(lockDir) };
  }

  /** A lock domain's containers and networks (its proxy, egress and task networks). */
  function objects(domain: string): string[] {
    const filter = `label=tsk.locks=${domain}`;
    return [...lines(docker('ps', '-a', '--filter', filter, '--format', '{{.Names}}')), ...lines(docker('network', 'ls', '--filter', filter, '--format', '{{.Name}}'))];
  }

  function proxyOf(domain: string): { id: string; fingerprint: string } | undefined {
    const [id] = lines(docker('ps', '-a', '--no-trunc', '--filter', `label=tsk.locks=${domain}`, '--filter', 'label=tsk.role=proxy', '--format', '{{.ID}}'));
    if (id === undefined) return undefined;
    return { id, fingerprint: docker('inspect', '--format', '{{index .Config.Labels "tsk.proxy"}}', id) };
  }

  function taskNetworks(domain: string): string[] {
    return lines(docker('network', 'ls', '--filter', `label=tsk.locks=${domain}`, '--filter', 'label=tsk.role=task', '--format', '{{.Name}}'));
  }

  function reaperPid(lockDir: string, fingerprint: string): number {
    return (JSON.parse(readFileSync(join(lockDir, `proxy-${fingerprint}.reaper`), 'utf8')) as { pid: number }).pid;
  }

  function runArgs(name: string, agent: 'no-op' | 'script', prompt: string): string[] {
    return ['run', '--repo', repo, '--agent', agent, '-n', name, '-p', prompt];
  }

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'tsk-idle-reaper-'));
    // Named like other tests' repositories, so its images are usually built already.
    repo = makeSimpleRepo(join(root, 'templates-repo'));
  });

  afterEach(async () => {
    for (const home of homes) {
      if (existsSync(home.dir)) await runTsk(['proxy', 'stop'], { env: home.env });
    }
  });

  afterAll(async () => {
    // Whatever a failed test left: these domains' objects are this file's alone.
    for (const home of homes) {
      const domain = lockDomain(join(home.dir, 'data', 'tsk', 'locks'));
      for (const container of lines(docker('ps', '-aq', '--filter', `label=tsk.locks=${domain}`))) docker('rm', '-f', container);
      for (const network of lines(docker('network', 'ls', '-q', '--filter', `label=tsk.locks=${domain}`))) docker('network', 'rm', network);
      await home.cleanup();
    }
    rmSync(root, { recursive: true, force: true });
  });

  it('should remove a warm proxy at its deadline with no other tsk process running, and then exit', async () => {
    const { home, lockDir, domain } = await newHome();
    const result = await runTsk(runArgs('reaped', 'no-op', 'nothing to do'), { env: home.env });
    expect(result.exitCode, result.stderr).toBe(0);
    const proxy = proxyOf(domain);
    expect(proxy).toBeDefined();
    const pid = reaperPid(lockDir, proxy!.fingerprint);
    expect(running(pid)).toBe(true);

    await eventually('proxy removed', () => objects(domain).length === 0);
    await eventually('reaper exited', () => !running(pid), 10_000);
    expect(existsSync(join(lockDir, `proxy-${proxy!.fingerprint}.reaper`))).toBe(false);
    expect(existsSync(join(lockDir, `proxy-${proxy!.fingerprint}.idle`))).toBe(false);
  });

  it('should leave a proxy alone while a later run holds it, and remove it after that run leaves it warm', async () => {
    const { home, lockDir, domain } = await newHome();
    // Long enough for the second run to start on it (a few seconds), short enough for it to pass meanwhile.
    const first = await runTsk(runArgs('first', 'no-op', 'nothing to do'), { env: { ...home.env, TSK_PROXY_IDLE_TIMEOUT: '8s' } });
    expect(first.exitCode, first.stderr).toBe(0);
    const proxy = proxyOf(domain)!;
    const firstReaper = reaperPid(lockDir, proxy.fingerprint);

    // Holds the proxy well past the first deadline.
    const second = startTsk(runArgs('second', 'script', 'sleep 15'), { env: home.env });
    await eventually('second run on the proxy', () => taskNetworks(domain).length > 0, 60_000);
    await eventually('first reaper gone while the second run holds the proxy', () => !running(firstReaper), 60_000);
    expect(second.child.exitCode).toBeNull();
    expect(proxyOf(domain)?.id).toBe(proxy.id);
    expect(docker('inspect', '--format', '{{.State.Running}}', proxy.id)).toBe('true');

    const done = await second.done;
    expect(done.exitCode, done.stderr).toBe(0);
    expect(done.stderr).not.toContain('Started network proxy');
    expect(proxyOf(domain)?.id).toBe(proxy.id);
    const secondReaper = reaperPid(lockDir, proxy.fingerprint);
    expect(secondReaper).not.toBe(firstReaper);

    await eventually('proxy removed', () => objects(domain).length === 0);
    await eventually('second reaper exited', () => !running(secondReaper), 10_000);
  });

  it('should stop the reaper with `tsk proxy stop`, not leave it waiting for a deadline long away', async () => {
    const { home, lockDir, domain } = await newHome();
    const result = await runTsk(runArgs('stopped', 'no-op', 'nothing to do'), { env: { ...home.env, TSK_PROXY_IDLE_TIMEOUT: '10m' } });
    expect(result.exitCode, result.stderr).toBe(0);
    const proxy = proxyOf(domain)!;
    const pid = reaperPid(lockDir, proxy.fingerprint);
    expect(running(pid)).toBe(true);

    const stop = await runTsk(['proxy', 'stop'], { env: home.env });
    expect(stop.exitCode, stop.stderr).toBe(0);
    expect(objects(domain)).toEqual([]);
    await eventually('reaper exited', () => !running(pid), 10_000);
    expect(existsSync(join(lockDir, `proxy-${proxy.fingerprint}.reaper`))).toBe(false);
  });

  it('should remove an orphaned proxy whose lock folder was deleted', async () => {
    const { home, lockDir, domain } = await newHome();
    const result = await runTsk(runArgs('orphan', 'no-op', 'nothing to do'), { env: home.env });
    expect(result.exitCode, result.stderr).toBe(0);
    const proxy = proxyOf(domain)!;
    const pid = reaperPid(lockDir, proxy.fingerprint);
    rmSync(lockDir, { recursive: true, force: true });

    await eventually('orphan removed', () => objects(domain).length === 0);
    await eventually('reaper exited', () => !running(pid), 10_000);
    expect(existsSync(lockDir)).toBe(false);
  });
});
