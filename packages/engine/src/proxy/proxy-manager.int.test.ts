import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import type Dockerode from 'dockerode';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { TaskConfig } from '../config/resolved-config.js';
import { createDocker } from '../docker/docker-client.js';
import { DEFAULT_BASE_IMAGE, ensureBaseImage } from '../docker/base-image.js';
import { ImageBuilder } from '../docker/image-builder.js';
import { ProxyError } from '../errors/index.js';
import { silentSink, type LogSink, type LogSource } from '../logging/index.js';
import { ProxyManager } from './proxy-manager.js';
import { LABEL_MANAGED } from '../docker/container-spec.js';
import { LABEL_LOCKS, LABEL_PROXY, LABEL_ROLE, egressNetworkName, proxyContainerName, taskNetworkName } from './proxy-names.js';
import type { ProxyLease } from './proxy-lease.js';
import { proxyFingerprint, resolveProxyConfig } from './squid-config.js';
import { idleDeadlinePath, readIdleDeadline, writeIdleDeadline } from './idle-deadline.js';
import { lockDomain } from './task-owner.js';

const PROBE_IMAGE = DEFAULT_BASE_IMAGE;
const docker = createDocker();
/** Everything this file creates itself (probe containers, control networks) carries this label. */
const TEST_LABEL = 'tsk.test';
const run = randomUUID().slice(0, 8);

let lockDir: string;
let images: ImageBuilder;
let defaultConf: string;
let proxyImageExisted = true;
let proxyImage = '';
const fingerprints = new Set<string>();

function manager(options: { owner?: string; lockDir?: string; idleTimeoutMs?: number } = {}): ProxyManager {
  return new ProxyManager({ docker, images, lockDir, log: silentSink, ...options });
}

/** A task configuration of its own: the marker makes its proxy this test's alone. */
function taskConfig(overrides: Partial<TaskConfig> = {}): TaskConfig {
  return { networkIsolation: true, hostPorts: [], squidConf: `${defaultConf}\n# test ${randomUUID()}\n`, ...overrides } as TaskConfig;
}

function taskId(): string {
  return `t${randomUUID().replace(/-/g, '').slice(0, 7)}`;
}

/** The fingerprint of a lease's proxy (and remember it for cleanup). */
function fingerprintOf(lease: ProxyLease): string {
  const fingerprint = lease.proxyName!.replace('tsk-proxy-', '');
  fingerprints.add(fingerprint);
  return fingerprint;
}

async function exists(kind: 'container' | 'network', name: string): Promise<boolean> {
  try {
    await (kind === 'container' ? docker.getContainer(name).inspect() : docker.getNetwork(name).inspect());
    return true;
  } catch {
    return false;
  }
}

async function inspectNetwork(name: string): Promise<Dockerode.NetworkInspectInfo> {
  return (await docker.getNetwork(name).inspect()) as Dockerode.NetworkInspectInfo;
}

/** Run a bash script as an unprivileged user in a throwaway container on `network`; its output. */
async function probe(network: string, script: string): Promise<string> {
  const container = await docker.createContainer({
    Image: PROBE_IMAGE,
    Cmd: ['bash', '-c', script],
    User: '1000:1000',
    Labels: { [TEST_LABEL]: run },
    HostConfig: { NetworkMode: network, CapDrop: ['ALL'], SecurityOpt: ['no-new-privileges:true'] },
  });
  try {
    await container.start();
    await container.wait();
    const buffer = (await container.logs({ stdout: true, stderr: true })) as unknown as Buffer;
    let text = '';
    for (let offset = 0; offset + 8 <= buffer.length; offset += 8 + buffer.readUInt32BE(offset + 4)) {
      text += buffer.subarray(offset + 8, offset + 8 + buffer.readUInt32BE(offset + 4)).toString('utf8');
    }
    return text.trim();
  } finally {
    await container.remove({ force: true });
  }
}

/** bash's /dev/tcp: `HTTP <status line>` when something answers at host:port, `FAIL` otherwise. */
function httpProbe(host: string, port: number): string {
  return `timeout 8 bash -c 'exec 3<>/dev/tcp/${host}/${port} && printf "GET / HTTP/1.0\\r\\n\\r\\n" >&3 && head -n 1 <&3' 2>/dev/null | sed 's/^/HTTP /' | grep . || echo FAIL`;
}

/** A raw proxy request from bash (`/dev/tcp`): what the proxy answers, cut short after a few seconds. */
function proxyRequest(requestLine: string): string {
  return `(exec 3<>/dev/tcp/tsk-proxy/3128 && printf '${requestLine}\\r\\n\\r\\n' >&3 && timeout 5 cat <&3); echo`;
}

/** A task log that keeps the `proxy denied` lines it is given. */
function denialLog(): LogSink & { denied: string[] } {
  const denied: string[] = [];
  return { denied, write: (source: LogSource, line: string) => void (line.startsWith('proxy denied') && denied.push(`${source} ${line}`)) };
}

/** Wait until `done()` holds (the proxy's log reaches tsk a moment after the request was answered). */
async function eventually(done: () => boolean, what: string): Promise<void> {
  for (let waited = 0; !done(); waited += 100) {
    if (waited > 15_000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function startHostService(): Promise<{ server: Server; port: number }> {
  const server = createServer((_request, response) => response.end('host-service\n'));
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '0.0.0.0', resolve));
  return { server, port: (server.address() as { port: number }).port };
}

async function removeEverything(): Promise<void> {
  const labels = [`${TEST_LABEL}=${run}`, ...[...fingerprints].map((fingerprint) => `${LABEL_PROXY}=${fingerprint}`)];
  for (const label of labels) {
    for (const container of await docker.listContainers({ all: true, filters: { label: [label] } })) {
      await docker.getContainer(container.Id).remove({ force: true }).catch(() => undefined);
    }
    for (const network of await docker.listNetworks({ filters: { label: [label] } })) {
      await docker.getNetwork(network.Id).remove().catch(() => undefined);
    }
  }
}

describe('ProxyManager (real Docker)', () => {
  beforeAll(async () => {
    lockDir = await mkdtemp(join(tmpdir(), 'tsk-proxy-locks-'));
    images = new ImageBuilder(docker, { lockDir });
    await ensureBaseImage({ docker, tag: PROBE_IMAGE, log: silentSink });
    const plan = await manager().planImage();
    defaultConf = plan.defaultSquidConf;
    proxyImage = plan.tag;
    proxyImageExisted = await images.imageExists(plan.tag);
  });

  afterEach(removeEverything);

  afterAll(async () => {
    await removeEverything();
    // Only an image this file built goes; one in use by someone else's proxy stays (409).
    if (!proxyImageExisted) await docker.getImage(proxyImage).remove().catch(() => undefined);
    await rm(lockDir, { recursive: true, force: true });
  });

  it('should put a task on an internal network shared only with a hardened proxy, and remove both on release', async () => {
    const id = taskId();
    const lease = await manager().acquire({ id, config: taskConfig() });
    const fingerprint = fingerprintOf(lease);
    expect(lease.network.networkMode).toBe(taskNetworkName(id));
    expect(lease.network.env).toEqual(expect.arrayContaining([{ name: 'HTTPS_PROXY', value: 'http://tsk-proxy:3128' }]));

    const network = await inspectNetwork(taskNetworkName(id));
    expect(network.Internal).toBe(true);
    expect(network.Options).toMatchObject({ 'com.docker.network.bridge.inhibit_ipv4': 'true' });
    expect(Object.values(network.Containers ?? {}).map((member) => member.Name)).toEqual([proxyContainerName(fingerprint)]);

    const proxy = await docker.getContainer(proxyContainerName(fingerprint)).inspect();
    expect(proxy.State.Health?.Status).toBe('healthy');
    expect(proxy.HostConfig).toMatchObject({ ReadonlyRootfs: true, CapDrop: ['ALL'], CapAdd: ['NET_ADMIN', 'SETUID', 'SETGID'] });
    expect(proxy.HostConfig.SecurityOpt).toEqual(['no-new-privileges:true']);
    expect(Object.keys(proxy.NetworkSettings.Networks).sort()).toEqual([egressNetworkName(fingerprint), taskNetworkName(id)].sort());
    expect(proxy.NetworkSettings.Networks[taskNetworkName(id)]?.Aliases).toContain('tsk-proxy');
    // The sandbox's DNS forwarder and its one host name are the proxy's address on the task network, and
    // the image is built there, behind the proxy.
    const address = proxy.NetworkSettings.Networks[taskNetworkName(id)]?.IPAddress;
    expect(lease.network.resolver).toEqual({ server: address, hosts: { 'tsk-proxy': address } });
    expect(lease.network.build).toEqual({ networkMode: taskNetworkName(id), args: expect.objectContaining({ HTTP_PROXY: 'http://tsk-proxy:3128' }) });
    const logs = ((await docker.getContainer(proxy.Id).logs({ stdout: true, stderr: true })) as unknown as Buffer).toString('utf8');
    expect(logs).toContain('tsk-proxy: firewall on (accepting tcp/3128)');

    await lease.release();
    await lease.release();
    expect(await exists('network', taskNetworkName(id))).toBe(false);
    expect(await exists('container', proxyContainerName(fingerprint))).toBe(false);
    expect(await exists('network', egressNetworkName(fingerprint))).toBe(false);
  });

  it("should keep the host's services out at the task network's gateway, which a plain internal network leaves open", async () => {
    const { server, port } = await startHostService();
    try {
      // Control: on a plain internal network the gateway is the host, and the service answers there.
      const plain = `tsk-test-plain-${run}`;
      await docker.createNetwork({ Name: plain, Internal: true, Labels: { [TEST_LABEL]: run } });
      const plainGateway = (await inspectNetwork(plain)).IPAM?.Config?.[0]?.Gateway ?? '';
      expect(await probe(plain, httpProbe(plainGateway, port))).toMatch(/^HTTP HTTP\/1\.[01] 200/);

      const id = taskId();
      const lease = await manager().acquire({ id, config: taskConfig() });
      fingerprintOf(lease);
      const gateway = (await inspectNetwork(taskNetworkName(id))).IPAM?.Config?.[0]?.Gateway ?? '';
      expect(gateway).not.toBe('');
      expect(await probe(taskNetworkName(id), httpProbe(gateway, port))).toBe('FAIL');
      // The proxy, the network's one other member, is reachable: only on its proxy port.
      expect(await probe(taskNetworkName(id), httpProbe('tsk-proxy', 3128))).toMatch(/^HTTP HTTP\/1\.1 \d{3}/);
      expect(await probe(taskNetworkName(id), httpProbe('tsk-proxy', 22))).toBe('FAIL');
      await lease.release();
    } finally {
      server.close();
    }
  });

  it('should share one proxy among concurrent tasks of two workers and remove it only after the last one ends', async () => {
    const config = taskConfig();
    const workers = [manager(), manager()];
    const ids = Array.from({ length: 6 }, taskId);
    const leases = await Promise.all(ids.map((id, index) => workers[index % 2]!.acquire({ id, config })));
    const fingerprint = fingerprintOf(leases[0]!);
    expect(new Set(leases.map((lease) => lease.proxyName))).toEqual(new Set([proxyContainerName(fingerprint)]));
    const proxies = await docker.listContainers({ all: true, filters: { label: [`${LABEL_PROXY}=${fingerprint}`] } });
    expect(proxies).toHaveLength(1);

    // Four tasks end while two new ones start, all at once.
    const late = [taskId(), taskId()];
    const [, lateLeases] = await Promise.all([
      Promise.all(leases.slice(0, 4).map((lease) => lease.release())),
      Promise.all(late.map((id, index) => workers[index]!.acquire({ id, config }))),
    ]);
    const remaining = [...leases.slice(4), ...lateLeases];
    const proxy = await docker.getContainer(proxyContainerName(fingerprint)).inspect();
    expect(Object.keys(proxy.NetworkSettings.Networks).sort()).toEqual(
      [egressNetworkName(fingerprint), ...[...ids.slice(4), ...late].map(taskNetworkName)].sort(),
    );

    await Promise.all(remaining.map((lease) => lease.release()));
    expect(await docker.listContainers({ all: true, filters: { label: [`${LABEL_PROXY}=${fingerprint}`] } })).toEqual([]);
    expect(await docker.listNetworks({ filters: { label: [`${LABEL_PROXY}=${fingerprint}`] } })).toEqual([]);
  });

  it("should fail with Squid's reason and leave nothing behind when squid_conf is broken", async () => {
    const id = taskId();
    const broken = taskConfig({ squidConf: `http_port 3128\nnot_a_directive on\n# ${randomUUID()}\n` });
    const failure = await manager().acquire({ id, config: broken }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ProxyError);
    expect((failure as Error).message).toMatch(/invalid squid configuration/);
    const fingerprint = proxyFingerprint(resolveProxyConfig(broken, defaultConf), proxyImage, lockDomain(lockDir));
    fingerprints.add(fingerprint);
    expect(await exists('network', taskNetworkName(id))).toBe(false);
    expect(await exists('container', proxyContainerName(fingerprint))).toBe(false);
    expect(await exists('network', egressNetworkName(fingerprint))).toBe(false);

    const wrongPort = taskConfig({ squidConf: `http_port 3129\nhttp_access deny all\n# ${randomUUID()}\n` });
    await expect(manager().acquire({ id, config: wrongPort })).rejects.toThrow(/is unhealthy|health check/);
    expect(await exists('network', taskNetworkName(id))).toBe(false);
  });

  it('should keep a proxy warm after its last task for idleTimeoutMs, give it to the next task, and remove it once its deadline passed', async () => {
    const warm = manager({ idleTimeoutMs: 600_000 });
    const config = taskConfig();
    const first = await warm.acquire({ id: taskId(), config });
    const fingerprint = fingerprintOf(first);
    const name = proxyContainerName(fingerprint);
    const { Id: proxyId } = await docker.getContainer(name).inspect();
    const before = Date.now();
    await first.release();
    // Warm: running, on its egress network only; the task network is gone; the deadline is recorded.
    const idle = await docker.getContainer(name).inspect();
    expect(idle.State.Running).toBe(true);
    expect(Object.keys(idle.NetworkSettings.Networks)).toEqual([egressNetworkName(fingerprint)]);
    expect(await exists('network', first.network.networkMode)).toBe(false);
    const deadline = await readIdleDeadline(lockDir, fingerprint);
    expect(deadline).toBeGreaterThanOrEqual(before + 600_000);
    expect(deadline).toBeLessThanOrEqual(Date.now() + 600_000);

    // The next task of the same configuration (another process: another manager) starts on the same container.
    const second = await manager({ idleTimeoutMs: 600_000 }).acquire({ id: taskId(), config });
    expect((await docker.getContainer(name).inspect()).Id).toBe(proxyId);
    expect(await readIdleDeadline(lockDir, fingerprint)).toBeUndefined();
    expect((await warm.sweepIdle()).inUse).toContain(name);
    await second.release();
    // A worker's sweep keeps it until its deadline, even a sweeper that keeps nothing warm itself.
    expect((await manager({ idleTimeoutMs: 0 }).sweepIdle()).warm).toContain(name);
    expect(await exists('container', name)).toBe(true);

    // Past its deadline, the next tsk process whose task ends (any configuration) removes it.
    await writeIdleDeadline(lockDir, fingerprint, Date.now() - 1);
    const other = await manager({ idleTimeoutMs: 600_000 }).acquire({ id: taskId(), config: taskConfig() });
    const otherName = proxyContainerName(fingerprintOf(other));
    expect(await exists('container', name)).toBe(true);
    await other.release();
    expect(await exists('container', name)).toBe(false);
    expect(await exists('network', egressNetworkName(fingerprint))).toBe(false);
    expect(await readIdleDeadline(lockDir, fingerprint)).toBeUndefined();
    expect(await exists('container', otherName)).toBe(true);

    // `tsk proxy stop` removes a warm proxy at once.
    const stopped = await manager().stopIdle();
    expect(stopped.removedProxies).toContain(otherName);
    expect(stopped.warm).toEqual([]);
    expect(await exists('container', otherName)).toBe(false);
    expect(await exists('network', egressNetworkName(otherName.replace('tsk-proxy-', '')))).toBe(false);
  });

  it('should remove the proxy when its last task ends with idleTimeoutMs 0, and start the clock for an idle proxy without a deadline', async () => {
    const lease = await manager({ idleTimeoutMs: 0 }).acquire({ id: taskId(), config: taskConfig() });
    const fingerprint = fingerprintOf(lease);
    await lease.release();
    expect(await exists('container', proxyContainerName(fingerprint))).toBe(false);
    expect(await exists('network', egressNetworkName(fingerprint))).toBe(false);

    // A warm proxy whose deadline file was lost (as after its last task's process died): the sweep keeps
    // it for the sweeper's timeout from now instead of for ever, or removes it with 0.
    const warm = await manager({ idleTimeoutMs: 600_000 }).acquire({ id: taskId(), config: taskConfig() });
    const warmFingerprint = fingerprintOf(warm);
    await warm.release();
    await rm(idleDeadlinePath(lockDir, warmFingerprint));
    const start = Date.now();
    expect((await manager({ idleTimeoutMs: 60_000 }).sweepIdle()).warm).toContain(proxyContainerName(warmFingerprint));
    expect(await readIdleDeadline(lockDir, warmFingerprint)).toBeGreaterThanOrEqual(start + 60_000);
    await rm(idleDeadlinePath(lockDir, warmFingerprint));
    expect((await manager({ idleTimeoutMs: 0 }).sweepIdle()).removedProxies).toContain(proxyContainerName(warmFingerprint));
    expect(await exists('container', proxyContainerName(warmFingerprint))).toBe(false);
  });

  it('should never take a proxy from a task that starts on it while its expired idle time is being swept', async () => {
    const config = taskConfig();
    const seed = await manager({ idleTimeoutMs: 600_000 }).acquire({ id: taskId(), config });
    const fingerprint = fingerprintOf(seed);
    await seed.release();
    for (let round = 0; round < 3; round += 1) {
      await writeIdleDeadline(lockDir, fingerprint, Date.now() - 1);
      // The sweep and the start race for the proxy's lock; whichever wins, the task gets a running proxy.
      const [lease] = await Promise.all([
        manager({ idleTimeoutMs: 600_000 }).acquire({ id: taskId(), config }),
        manager({ idleTimeoutMs: 600_000 }).sweepIdle(),
      ]);
      const proxy = await docker.getContainer(proxyContainerName(fingerprint)).inspect();
      expect(proxy.State.Running).toBe(true);
      expect(Object.keys(proxy.NetworkSettings.Networks)).toContain(lease.network.networkMode);
      expect(await probe(lease.network.networkMode, `getent hosts tsk-proxy >/dev/null && ${httpProbe('tsk-proxy', 3128)}`)).toMatch(/^HTTP /);
      await lease.release();
    }
    await manager().stopIdle();
    expect(await exists('container', proxyContainerName(fingerprint))).toBe(false);
  });

  it('should let stopIdle remove the proxy of a task whose process died, and keep one a live task uses', async () => {
    const { pid: deadPid } = await import('node:child_process').then(({ spawnSync }) => spawnSync(process.execPath, ['-e', '0']));
    const crashed = await manager({ owner: `${hostname()}/${deadPid}` }).acquire({ id: taskId(), config: taskConfig() });
    const live = await manager().acquire({ id: taskId(), config: taskConfig() });
    const crashedFingerprint = fingerprintOf(crashed);
    const liveFingerprint = fingerprintOf(live);

    const result = await manager().stopIdle();
    expect(result.removedProxies).toContain(proxyContainerName(crashedFingerprint));
    expect(result.removedNetworks).toContain(crashed.network.networkMode);
    expect(result.inUse).toContain(proxyContainerName(liveFingerprint));
    expect(await exists('network', egressNetworkName(crashedFingerprint))).toBe(false);
    expect(await exists('container', proxyContainerName(liveFingerprint))).toBe(true);
    await live.release();
    expect(await exists('container', proxyContainerName(liveFingerprint))).toBe(false);
  });

  it("should give each lock domain (a user's lock folder) proxies of its own, and sweep only its own (and unlabelled, older) ones", async () => {
    const { pid: deadPid } = await import('node:child_process').then(({ spawnSync }) => spawnSync(process.execPath, ['-e', '0']));
    const owner = `${hostname()}/${deadPid}`;
    // A lock folder of its own (another user's, or another TSK_DATA_HOME): its sweep below can only find
    // this test's objects (and unlabelled ones, which it may rightly free).
    const otherLockDir = mkdtempSync(join(tmpdir(), 'tsk-other-locks-'));
    const config = taskConfig();
    const theirs = await manager({ owner, lockDir: otherLockDir }).acquire({ id: taskId(), config });
    const mine = await manager({ owner }).acquire({ id: taskId(), config });
    const theirFingerprint = fingerprintOf(theirs);
    const myFingerprint = fingerprintOf(mine);
    expect(theirFingerprint).not.toBe(myFingerprint);
    for (const [lease, fingerprint, domain] of [[theirs, theirFingerprint, lockDomain(otherLockDir)], [mine, myFingerprint, lockDomain(lockDir)]] as const) {
      const labels = { [LABEL_LOCKS]: domain };
      expect((await docker.getContainer(proxyContainerName(fingerprint)).inspect()).Config.Labels).toMatchObject(labels);
      expect((await inspectNetwork(egressNetworkName(fingerprint))).Labels).toMatchObject(labels);
      expect((await inspectNetwork(lease.network.networkMode)).Labels).toMatchObject(labels);
    }
    // An egress network left by a tsk from before proxies had a lock domain carries no label: it is ours to free.
    const legacyFingerprint = randomUUID().replace(/-/g, '').slice(0, 12);
    fingerprints.add(legacyFingerprint);
    await docker.createNetwork({
      Name: egressNetworkName(legacyFingerprint),
      Labels: { [LABEL_MANAGED]: 'true', [LABEL_ROLE]: 'egress', [LABEL_PROXY]: legacyFingerprint },
    });

    const result = await manager().stopIdle();
    expect(result.removedProxies).toContain(proxyContainerName(myFingerprint));
    expect(result.removedNetworks).toContain(mine.network.networkMode);
    expect([...result.removedProxies, ...result.removedNetworks, ...result.inUse].join(' ')).not.toContain(theirFingerprint);
    expect(result.removedNetworks).not.toContain(theirs.network.networkMode);
    expect(await exists('network', egressNetworkName(legacyFingerprint))).toBe(false);
    expect(await exists('container', proxyContainerName(theirFingerprint))).toBe(true);
    expect(await exists('network', theirs.network.networkMode)).toBe(true);

    const theirSweep = await manager({ lockDir: otherLockDir }).stopIdle();
    expect(theirSweep.removedProxies).toContain(proxyContainerName(theirFingerprint));
    expect(await exists('network', theirs.network.networkMode)).toBe(false);
    expect(await exists('network', egressNetworkName(theirFingerprint))).toBe(false);
    rmSync(otherLockDir, { recursive: true, force: true });
  });

  it('should start a retried task afresh when its earlier attempt died and left its network behind', async () => {
    const id = taskId();
    const config = taskConfig();
    const first = await manager().acquire({ id, config });
    const fingerprint = fingerprintOf(first);
    const before = (await inspectNetwork(taskNetworkName(id))).Id;
    // The first attempt's process is gone without releasing; the retry runs in another worker.
    const retry = await manager().acquire({ id, config });
    expect((await inspectNetwork(taskNetworkName(id))).Id).not.toBe(before);
    const proxy = await docker.getContainer(proxyContainerName(fingerprint)).inspect();
    expect(Object.keys(proxy.NetworkSettings.Networks).sort()).toEqual([egressNetworkName(fingerprint), taskNetworkName(id)].sort());
    await retry.release();
    expect(await exists('container', proxyContainerName(fingerprint))).toBe(false);
  });

  it("should say each request the proxy denies in the log of the task that sent it, as it happens, with the hint in the 403 page, and count them", async () => {
    const config = taskConfig();
    const ids = [taskId(), taskId()];
    const logs = [denialLog(), denialLog()];
    const leases = await Promise.all(ids.map((id, index) => manager().acquire({ id, config, log: logs[index] })));
    fingerprintOf(leases[0]!);
    expect(leases[1]!.proxyName).toBe(leases[0]!.proxyName);

    // Both tasks ask at once, through the one proxy they share.
    const [page] = await Promise.all([
      probe(taskNetworkName(ids[0]!), [proxyRequest('GET http://blocked.example/x HTTP/1.0'), proxyRequest('CONNECT denied.example.org:443 HTTP/1.1')].join('\n')),
      probe(taskNetworkName(ids[1]!), proxyRequest('CONNECT other-denied.example.net:443 HTTP/1.1')),
    ]);
    expect(page).toMatch(/^HTTP\/1\.1 403 Forbidden/);
    expect(page).toContain("tsk's proxy denied this request to blocked.example: the host is not in the sandbox's allowlist.");
    expect(page).toContain('acl allowed_domains dstdomain -n blocked.example');

    // In the logs while the tasks still run: the stream, not the final reading, brought them.
    await eventually(() => logs[0]!.denied.length >= 2 && logs[1]!.denied.length >= 1, 'the denials in the task logs');
    expect(logs[0]!.denied).toEqual(['warn proxy denied GET http://blocked.example/x', 'warn proxy denied CONNECT denied.example.org:443']);
    expect(logs[1]!.denied).toEqual(['warn proxy denied CONNECT other-denied.example.net:443']);
    expect(await leases[0]!.denials()).toEqual({ count: 2, hosts: ['blocked.example', 'denied.example.org'] });
    expect(await leases[1]!.denials()).toEqual({ count: 1, hosts: ['other-denied.example.net'] });
    // The final reading found nothing the stream had not said already.
    expect(logs[0]!.denied).toHaveLength(2);
    expect(logs[1]!.denied).toHaveLength(1);
    await leases[0]!.release();

    // A task started after one ended gets a network of its own (often the ended one's subnet again):
    // the proxy's earlier lines from that subnet are not its denials.
    const later = denialLog();
    const laterId = taskId();
    const laterLease = await manager().acquire({ id: laterId, config, log: later });
    await probe(taskNetworkName(laterId), proxyRequest('GET http://later.example/ HTTP/1.0'));
    await eventually(() => later.denied.length >= 1, 'the later task denial');
    expect(await laterLease.denials()).toEqual({ count: 1, hosts: ['later.example'] });
    expect(later.denied).toEqual(['warn proxy denied GET http://later.example/']);
    expect(await leases[1]!.denials()).toEqual({ count: 1, hosts: ['other-denied.example.net'] });
    await Promise.all([laterLease.release(), leases[1]!.release()]);
    // Released: what was counted stays, and nothing more arrives.
    expect(await laterLease.denials()).toEqual({ count: 1, hosts: ['later.example'] });
  });

  it('should give a task with isolation off the default bridge and no proxy', async () => {
    const lease = await manager().acquire({ id: taskId(), config: taskConfig({ networkIsolation: false }) });
    expect(lease.network).toEqual({ networkMode: 'bridge', env: [], build: { networkMode: 'bridge', args: {} } });
    expect(lease.proxyName).toBeUndefined();
    expect(await lease.denials()).toEqual({ count: 0, hosts: [] });
    await lease.release();
  });
});
