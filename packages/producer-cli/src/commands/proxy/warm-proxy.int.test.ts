import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assetsRoot, lockDomain, planProxyImage } from '@tsk/engine';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeSimpleRepo } from '../../test-utils/simple-repo.js';
import { makeTskHome, runTsk, type TskHome, type TskRunResult } from '../../test-utils/run-tsk.js';

// Only loopback and the networks tsk makes for these tasks: the no-op agent sends nothing anywhere.

function docker(...args: string[]): string {
  return execFileSync('docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

function lines(text: string): string[] {
  return text.split('\n').filter(Boolean).sort();
}

describe('warm proxy ([proxy] idle_timeout, tsk run, real Docker)', () => {
  let home: TskHome;
  let root: string;
  let repo: string;
  let lockDir: string;
  let domain: string;
  let defaultConf: string;

  /** This home's proxy containers (full ids, running or not): its lock domain's, nobody else's. */
  function proxies(): string[] {
    return lines(docker('ps', '-a', '--no-trunc', '--filter', `label=tsk.locks=${domain}`, '--filter', 'label=tsk.role=proxy', '--format', '{{.ID}}'));
  }

  /** Every container and network of this home's lock domain: what must be gone at the end. */
  function leftovers(): string[] {
    const filter = `label=tsk.locks=${domain}`;
    return [...lines(docker('ps', '-a', '--filter', filter, '--format', '{{.Names}}')), ...lines(docker('network', 'ls', '--filter', filter, '--format', '{{.Name}}'))];
  }

  function taskNetworks(): string[] {
    return lines(docker('network', 'ls', '--filter', `label=tsk.locks=${domain}`, '--filter', 'label=tsk.role=task', '--format', '{{.Name}}'));
  }

  function fingerprintOf(container: string): string {
    return docker('inspect', '--format', '{{index .Config.Labels "tsk.proxy"}}', container);
  }

  async function noOpRun(name: string, idleTimeout: string): Promise<TskRunResult> {
    const result = await runTsk(['run', '--repo', repo, '--agent', 'no-op', '-n', name, '-p', 'nothing to do'], {
      env: { ...home.env, TSK_PROXY_IDLE_TIMEOUT: idleTimeout },
    });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stderr + result.stdout).toContain('Starting no-op agent');
    return result;
  }

  async function proxyStop(): Promise<{ removedProxies: string[]; removedNetworks: string[]; inUse: string[]; warm: string[] }> {
    const result = await runTsk(['proxy', 'stop', '--json'], { env: home.env });
    expect(result.exitCode, result.stderr).toBe(0);
    return JSON.parse(result.stdout) as { removedProxies: string[]; removedNetworks: string[]; inUse: string[]; warm: string[] };
  }

  function writeUserConfig(text: string): void {
    mkdirSync(join(home.dir, 'config', 'tsk'), { recursive: true });
    writeFileSync(join(home.dir, 'config', 'tsk', 'tsk.toml'), text);
  }

  beforeAll(async () => {
    home = await makeTskHome();
    root = mkdtempSync(join(tmpdir(), 'tsk-warm-proxy-'));
    // Named like other tests' repositories, so its no-op image is usually built already.
    repo = makeSimpleRepo(join(root, 'plain-repo'));
    lockDir = join(home.dir, 'data', 'tsk', 'locks');
    domain = lockDomain(lockDir);
    defaultConf = (await planProxyImage(join(assetsRoot(), 'squid'))).defaultSquidConf;
  });

  afterEach(async () => {
    writeUserConfig('');
    await proxyStop();
    expect(leftovers()).toEqual([]);
  });

  afterAll(async () => {
    // Whatever a failed test left: this domain's objects are this file's alone.
    for (const container of lines(docker('ps', '-aq', '--filter', `label=tsk.locks=${domain}`))) docker('rm', '-f', container);
    for (const network of lines(docker('network', 'ls', '-q', '--filter', `label=tsk.locks=${domain}`))) docker('network', 'rm', network);
    await home?.cleanup();
    rmSync(root, { recursive: true, force: true });
  });

  it('should run a repeated task on the same proxy container while idle_timeout lasts, and let `tsk proxy stop` remove it', async () => {
    const first = await noOpRun('warm-1', '10m');
    expect(first.stderr).toContain('Started network proxy');
    const [proxy, ...others] = proxies();
    expect(others).toEqual([]);
    expect(docker('inspect', '--format', '{{.State.Running}}', proxy!)).toBe('true');
    expect(taskNetworks()).toEqual([]);
    const fingerprint = fingerprintOf(proxy!);
    const deadline = Number(readFileSync(join(lockDir, `proxy-${fingerprint}.idle`), 'utf8'));
    expect(deadline).toBeGreaterThan(Date.now() + 9 * 60_000);

    const second = await noOpRun('warm-2', '10m');
    expect(second.stderr).not.toContain('Started network proxy');
    expect(proxies()).toEqual([proxy]);
    expect(taskNetworks()).toEqual([]);

    const stopped = await proxyStop();
    expect(stopped.removedProxies).toEqual([`tsk-proxy-${fingerprint}`]);
    expect(leftovers()).toEqual([]);
    expect(() => readFileSync(join(lockDir, `proxy-${fingerprint}.idle`))).toThrow(/ENOENT/);
  });

  it('should remove the proxy as its task ends with idle_timeout 0', async () => {
    const result = await noOpRun('cold', '0');
    expect(result.stderr).toContain('Started network proxy');
    expect(leftovers()).toEqual([]);
  });

  it('should let the next tsk process remove an idle proxy whose time is up', async () => {
    await noOpRun('expiring', '10m');
    const [expired] = proxies();
    const fingerprint = fingerprintOf(expired!);
    writeFileSync(join(lockDir, `proxy-${fingerprint}.idle`), `${Date.now() - 1}\n`);

    // Another configuration, so the next task does not simply start on the expired proxy.
    writeUserConfig(`[defaults]\nsquid_conf = '''\n${defaultConf}\n# warm-proxy test: another proxy\n'''\n`);
    await noOpRun('sweeper', '10m');
    const remaining = proxies();
    expect(remaining).toHaveLength(1);
    expect(remaining).not.toContain(expired);
    expect(lines(docker('network', 'ls', '--filter', `label=tsk.proxy=${fingerprint}`, '--format', '{{.Name}}'))).toEqual([]);
    expect(() => readFileSync(join(lockDir, `proxy-${fingerprint}.idle`))).toThrow(/ENOENT/);
  });
});
