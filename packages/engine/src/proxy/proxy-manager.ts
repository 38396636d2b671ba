import { join } from 'node:path';
import type Dockerode from 'dockerode';
import { assetsRoot } from '../common/assets.js';
import { LABEL_MANAGED, type SandboxNetwork } from '../docker/container-spec.js';
import { ImageBuilder, type EnsureImageResult } from '../docker/index.js';
import { ProxyError } from '../errors/index.js';
import { log as debug, silentSink, type LogSink } from '../logging/index.js';
import { clearIdleDeadline } from './idle-deadline.js';
import { stopIdleProxies, sweepExpiredProxies, type StopIdleProxiesResult } from './idle-proxies.js';
import { bindableAddresses, bridgeAddressCandidates, planHostForwarding } from './host-forwarding.js';
import { HostPortForwarders } from './host-port-forwarders.js';
import { DockerNetworkClient, networkGateway, networkSubnet } from './network-client.js';
import type { NetworkTask, SandboxNetworkProvider } from './network-provider.js';
import { ensureProxyContainer } from './proxy-container.js';
import { ProxyDenialFeed, type DenialWatch } from './proxy-denial-feed.js';
import { buildProxyContainerSpec } from './proxy-container-spec.js';
import { proxyBuildArgs, proxyEnv } from './proxy-env.js';
import { DEFAULT_PROXY_BASE_IMAGE, ensureProxyImage, planProxyImage, type ProxyImagePlan } from './proxy-image.js';
import { ensureIdleReaper } from './idle-reaper.js';
import { ProxyLease } from './proxy-lease.js';
import { withProxyLock } from './proxy-lock.js';
import {
  egressNetworkName,
  LABEL_OWNER,
  LABEL_PROXY,
  LABEL_ROLE,
  LABEL_LOCKS,
  PROXY_ALIAS,
  PROXY_PORT,
  proxyContainerName,
  taskNetworkName,
} from './proxy-names.js';
import { detachTaskNetwork, retireProxyIfIdle, type ProxyEngine, type RetireOptions, type RetireOutcome } from './proxy-teardown.js';
import { proxyFingerprint, resolveProxyConfig, type ProxyConfig } from './squid-config.js';
import { assertEngineIsolates, assertTaskNetworkIsolated, ensureNetworkOnPool, ensureTaskNetwork, hostRoutedSubnets } from './task-network.js';
import { EGRESS_SUBNET_POOL } from './task-subnets.js';
import { currentOwner, lockDomain, ownerMayBeAlive } from './task-owner.js';

export interface ProxyManagerOptions {
  docker: Dockerode;
  /** Builds the proxy image. @defaultValue an ImageBuilder of its own, locking in `lockDir` */
  images?: ImageBuilder;
  /** Where the cross-process proxy (and image build) locks live: the user's lock folder (see `ensureDockerLockDir`). */
  lockDir: string;
  /** The folder with the proxy's Dockerfile, entrypoint.sh and default squid.conf. @defaultValue `<assetsRoot>/squid` */
  squidDir?: string;
  /** Base image of the proxy image. @defaultValue `DEFAULT_PROXY_BASE_IMAGE` (tsk's default base image) */
  baseImage?: string;
  /** Progress lines when a task brings no log of its own. @defaultValue silentSink */
  log?: LogSink;
  /** How long a new proxy may take to pass its health check. @defaultValue 60_000 */
  healthTimeoutMs?: number;
  /**
   * Who holds the task networks this manager creates (`<host>/<pid>`), so that `tsk proxy stop` can tell
   * live tasks from crashed ones. @defaultValue this process
   */
  owner?: string;
  /**
   * `[proxy] idle_timeout`: how long a proxy stays up after its last task, so that the next task of the
   * same configuration (a repeated `tsk run`) starts on it warm. 0 removes it when its last task ends.
   * @defaultValue 0
   */
  idleTimeoutMs?: number;
  /**
   * This is a short-lived process (`tsk run`, `tsk shell`): when it leaves a proxy warm, start the
   * proxy's idle reaper (see `idle-reaper.ts`) so that the proxy goes at its deadline even if no tsk
   * process of this lock folder runs again. A worker sweeps by itself and leaves this off.
   * @defaultValue false
   */
  idleReaper?: boolean;
}

/** What tsk learned about the engine once: whether it isolates, and where the host is seen from a container. */
interface EngineFacts {
  /** Docker Desktop runs containers in a VM: the host is `host-gateway`, not a bridge gateway. */
  inVm: boolean;
  /** Gateway and subnet of the engine's default bridge (where the host's `docker0` address lies). */
  bridge: { gateway: string | undefined; subnet: string | undefined };
}

interface StartProxyOptions {
  fingerprint: string;
  config: ProxyConfig;
  image: string;
  facts: EngineFacts;
  /** The task being started: its own network is not one to re-attach. */
  taskId: string;
  log: LogSink;
  signal: AbortSignal | undefined;
}

/**
 * Network isolation for sandboxes. Each isolated task gets its own internal network (`tsk-agent-<id>`)
 * whose only other member is a Squid proxy; tasks of one lock domain (see `lockDomain`) with the same proxy configuration
 * (`host_ports` and `squid_conf`) share one proxy (`tsk-proxy-<fingerprint>`), which reaches the outside
 * through its own network (`tsk-egress-<fingerprint>`) and is removed with it when its last task ends,
 * or `idleTimeoutMs` later (kept warm for the next task; any later tsk process of the lock domain, a
 * worker's sweep or `tsk proxy stop` removes it once that has passed).
 * Tasks with isolation off get Docker's default bridge.
 *
 * Safe across processes: every change to one proxy happens under its lock file, and who uses a proxy is
 * read from the engine (its attached task networks), never kept in memory. Lock folders are per user,
 * so proxies are too: other users' tsk never touches ours.
 */
/**
 * The task networks this process holds a lease for (or is acquiring one), by owner and task, whichever
 * manager took it: the owner label is the process's, so its sweep (`sweepIdle`) judges its own task
 * networks by this, not by whether it lives.
 */
const leasesHeld = new Set<string>();
const heldKey = (owner: string, taskId: string) => `${owner}\0${taskId}`;

export class ProxyManager implements SandboxNetworkProvider {
  private readonly engine: ProxyEngine;
  private readonly images: ImageBuilder;
  private readonly squidDir: string;
  private readonly baseImage: string;
  private readonly log: LogSink;
  private readonly healthTimeoutMs: number;
  private readonly domain: string;
  private readonly idleTimeoutMs: number;
  private plan: Promise<ProxyImagePlan> | undefined;
  private facts: Promise<EngineFacts> | undefined;
  private readonly forwarders: HostPortForwarders;
  private readonly denialFeed: ProxyDenialFeed;


  constructor(private readonly options: ProxyManagerOptions) {
    this.engine = { docker: options.docker, networks: new DockerNetworkClient(options.docker) };
    this.images = options.images ?? new ImageBuilder(options.docker, { lockDir: options.lockDir });
    this.squidDir = options.squidDir ?? join(assetsRoot(), 'squid');
    this.baseImage = options.baseImage ?? DEFAULT_PROXY_BASE_IMAGE;
    this.log = options.log ?? silentSink;
    this.healthTimeoutMs = options.healthTimeoutMs ?? 60_000;
    this.domain = lockDomain(options.lockDir);
    this.idleTimeoutMs = Math.max(0, options.idleTimeoutMs ?? 0);
    this.forwarders = new HostPortForwarders({ lockDir: options.lockDir });
    this.denialFeed = new ProxyDenialFeed(options.docker);
  }

  /** The proxy image plan (read from the squid folder once per manager). */
  planImage(): Promise<ProxyImagePlan> {
    this.plan ??= planProxyImage(this.squidDir, this.baseImage);
    this.plan.catch(() => (this.plan = undefined));
    return this.plan;
  }

  /** Build the proxy image unless it exists (`tsk docker build --proxy-only`). */
  async ensureImage(options: { log?: LogSink; signal?: AbortSignal; noCache?: boolean } = {}): Promise<EnsureImageResult> {
    const plan = await this.planImage();
    const { signal, noCache } = options;
    return ensureProxyImage({ docker: this.engine.docker, images: this.images, plan, log: options.log ?? this.log, signal, noCache });
  }

  /**
   * Give a task its network: for an isolated task, its own internal network with the (started, healthy)
   * proxy of its configuration on it, and this process forwarding its `host_ports` to the host's loopback
   * (see {@link HostPortForwarders}); for a task with isolation off, Docker's default bridge. The lease's
   * `release()` stops the forwarding, removes the task network, and the proxy when no other task uses it
   * (at once with `idleTimeoutMs` 0, else once it has been idle that long).
   *
   * @throws ProxyError when the engine cannot isolate safely or the proxy does not start (nothing of
   * the attempt is left behind); ConfigError for an invalid `host_ports` entry.
   */
  async acquire(task: NetworkTask): Promise<ProxyLease> {
    if (!task.config.networkIsolation) {
      return new ProxyLease({ networkMode: 'bridge', env: [], build: { networkMode: 'bridge', args: {} } }, undefined, async () => undefined);
    }
    // Held from before its network exists until its release ends, however that ends: the sweep
    // (`sweepIdle`) judges this process's task networks by it.
    const held = heldKey(this.options.owner ?? currentOwner(), task.id);
    leasesHeld.add(held);
    try {
      return await this.acquireIsolated(task, () => leasesHeld.delete(held));
    } catch (error) {
      leasesHeld.delete(held);
      throw error;
    }
  }

  private async acquireIsolated(task: NetworkTask, released: () => void): Promise<ProxyLease> {
    const log = task.log ?? this.log;
    const { signal } = task;
    const facts = await this.engineFacts();
    const plan = await this.planImage();
    const config = resolveProxyConfig(task.config, plan.defaultSquidConf);
    const { tag } = await this.ensureImage({ log, signal });
    const fingerprint = proxyFingerprint(config, tag, this.domain);
    const network = taskNetworkName(task.id);
    await this.clearLeftoverTaskNetwork(network, signal);

    let proxyAddress: string | undefined;
    let egress: Dockerode.NetworkInspectInfo | undefined;
    let taskNetwork: Dockerode.NetworkInspectInfo | undefined;
    await withProxyLock(fingerprint, { lockDir: this.options.lockDir, signal }, async () => {
      try {
        egress = await this.startProxy({ fingerprint, config, image: tag, facts, taskId: task.id, log, signal });
        const owner = this.options.owner ?? currentOwner();
        const { info, created } = await ensureTaskNetwork(this.engine.networks, { taskId: task.id, fingerprint, owner, domain: this.domain });
        if (!created) {
          throw new ProxyError(`Network ${network} is still in use by an earlier run of task ${task.id}`, {
            hint: `remove its container with \`docker rm -f tsk-${task.id}\``,
          });
        }
        assertTaskNetworkIsolated(info);
        taskNetwork = info;
        await this.engine.networks.connect(network, proxyContainerName(fingerprint), [PROXY_ALIAS]);
        // In use again: no deadline of an earlier idle spell may count (the last task to leave writes a new one).
        await clearIdleDeadline(this.options.lockDir, fingerprint);
        proxyAddress = await this.memberAddress(network, proxyContainerName(fingerprint));
      } catch (error) {
        // Leave nothing half set up: this task's network goes, and the proxy too if no one else uses it
        // (after its idle time: a warm proxy is not the failed task's to take away).
        await detachTaskNetwork(this.engine, fingerprint, network).catch(() => undefined);
        await retireProxyIfIdle(this.engine, fingerprint, this.retireOptions({ fresh: true }))
          .then((outcome) => this.leftWarm(fingerprint, outcome))
          .catch(() => undefined);
        throw error;
      }
    });
    debug.proxy('[%s] on %s behind %s (%s)', task.id, network, proxyContainerName(fingerprint), proxyAddress);
    const sandboxNetwork: SandboxNetwork = {
      networkMode: network,
      env: proxyEnv(PROXY_ALIAS, PROXY_PORT),
      // The proxy answers no DNS, so the engine's resolver has nowhere to forward an outside name to,
      // whatever the engine's version and the host's resolver; the sandbox finds the proxy in /etc/hosts.
      resolver: { server: proxyAddress ?? '', hosts: { [PROXY_ALIAS]: proxyAddress ?? '' } },
      // Builds of the task's image run on the task's own network: only the proxy, only its allowlist.
      build: { networkMode: network, args: proxyBuildArgs(PROXY_ALIAS, PROXY_PORT) },
    };
    const detach = () =>
      withProxyLock(fingerprint, { lockDir: this.options.lockDir }, async () => {
        if (!(await detachTaskNetwork(this.engine, fingerprint, network))) {
          log.write('warn', `Network ${network} still has a container attached; \`tsk proxy stop\` removes it later`);
        }
        const outcome = await retireProxyIfIdle(this.engine, fingerprint, this.retireOptions({ fresh: true }));
        if (outcome === 'removed') debug.proxy('[%s] last task ended: proxy removed', fingerprint);
        if (outcome === 'kept') debug.proxy('[%s] last task ended: proxy kept warm for %dms', fingerprint, this.idleTimeoutMs);
        await this.leftWarm(fingerprint, outcome);
      }).finally(() => this.sweepExpired());
    let stopForwarding: () => Promise<void>;
    try {
      // Outside the proxy's lock: listening on this host needs no agreement with other processes.
      stopForwarding = await this.forwardHostPorts(config, egress, facts, log);
    } catch (error) {
      await detach().catch(() => undefined);
      throw error;
    }
    const denials = this.watchDenials(proxyContainerName(fingerprint), taskNetwork, egressNetworkName(fingerprint), log);
    return new ProxyLease(
      sandboxNetwork,
      proxyContainerName(fingerprint),
      async () => {
        try {
          await stopForwarding();
        } finally {
          await detach().finally(released);
        }
      },
      denials,
    );
  }

  /**
   * Say in the task's log each request the proxy denies it, and count them: the proxy tells its tasks
   * apart by the client's address, which lies in the subnet of the task's own network.
   */
  private watchDenials(proxyName: string, network: Dockerode.NetworkInspectInfo | undefined, egressNetwork: string, log: LogSink): DenialWatch | undefined {
    const subnet = network && networkSubnet(network);
    if (network === undefined || subnet === undefined) return undefined;
    // The engine's clock, like Squid's: a request from this subnet before the network existed was another task's.
    const created = Date.parse(network.Created ?? '');
    return this.denialFeed.watch(proxyName, { subnet, since: Number.isNaN(created) ? Date.now() : created, log, egressNetwork });
  }

  /**
   * Forward the task's host ports from the proxy's egress network to this host's 127.0.0.1 (or docker0
   * address) for as long as the task runs. The proxy reaches only the host's address on its egress
   * bridge by itself; where this process cannot listen there (not on the Docker host), host services
   * must listen on 0.0.0.0, and the task's log says so. Returns the release.
   */
  private async forwardHostPorts(
    config: ProxyConfig,
    egress: Dockerode.NetworkInspectInfo | undefined,
    facts: EngineFacts,
    log: LogSink,
  ): Promise<() => Promise<void>> {
    const gateway = egress && networkGateway(egress);
    const plan = planHostForwarding({
      hostPorts: config.hostPorts,
      inVm: facts.inVm,
      egress: { gateway, subnet: egress && networkSubnet(egress) },
      bridge: facts.bridge,
      localAddresses: await bindableAddresses([gateway, ...bridgeAddressCandidates(facts.bridge)]),
    });
    if (!plan.forward) {
      if (plan.reason) log.write('warn', `host_ports: ${plan.reason}: only host services listening on 0.0.0.0 answer, not those on 127.0.0.1`);
      return async () => undefined;
    }
    return this.forwarders.hold(plan.forward, log);
  }

  /**
   * Remove this user's proxies no live task uses, with their networks, and task networks left by this
   * user's crashed tasks, at once however long their idle time still runs (`tsk proxy stop`).
   */
  stopIdle(): Promise<StopIdleProxiesResult> {
    return stopIdleProxies(this.engine, { lockDir: this.options.lockDir, domain: this.domain, force: true });
  }

  /**
   * Like {@link stopIdle}, but idle proxies stay warm until their idle deadline (the worker's periodic
   * sweep): task networks of crashed tasks go, idle proxies past their deadline go, the others are kept.
   */
  sweepIdle(): Promise<StopIdleProxiesResult> {
    const owner = this.options.owner ?? currentOwner();
    const heldHere = { owner, holds: (taskId: string) => leasesHeld.has(heldKey(owner, taskId)) };
    return stopIdleProxies(this.engine, { lockDir: this.options.lockDir, domain: this.domain, idleTimeoutMs: this.idleTimeoutMs, heldHere });
  }

  /**
   * Remove this lock domain's idle proxies whose deadline has passed, whatever their configuration: a
   * `tsk run` that ends is the next process that looks. Never fails the caller.
   */
  private async sweepExpired(): Promise<void> {
    try {
      const removed = await sweepExpiredProxies(this.engine, { lockDir: this.options.lockDir, idleTimeoutMs: this.idleTimeoutMs });
      if (removed.length > 0) debug.proxy('idle past their deadline, removed: %s', removed.join(', '));
    } catch (error) {
      debug.proxy('sweep of idle proxies failed: %s', (error as Error).message);
    }
  }

  /**
   * After retiring a proxy under its lock: a short-lived process that left it warm makes sure its idle
   * reaper waits for the deadline. Never fails the caller (at worst the proxy waits for the next sweep).
   */
  private async leftWarm(fingerprint: string, outcome: RetireOutcome): Promise<void> {
    if (outcome !== 'kept' || this.options.idleReaper !== true) return;
    try {
      const pid = await ensureIdleReaper({ lockDir: this.options.lockDir, fingerprint, idleTimeoutMs: this.idleTimeoutMs });
      debug.proxy('[%s] idle reaper: %s', fingerprint, pid ?? 'none (no built script)');
    } catch (error) {
      debug.proxy('[%s] could not start the idle reaper: %s', fingerprint, (error as Error).message);
    }
  }

  private retireOptions(extra: Pick<RetireOptions, 'fresh'> = {}): RetireOptions {
    return { lockDir: this.options.lockDir, idleTimeoutMs: this.idleTimeoutMs, ...extra };
  }

  /**
   * Start (or reuse) the proxy of one configuration and its egress network. Call with its lock held.
   * Returns the egress network.
   */
  private async startProxy(options: StartProxyOptions): Promise<Dockerode.NetworkInspectInfo> {
    const { fingerprint, config, image, facts, taskId, log, signal } = options;
    const egressNetwork = egressNetworkName(fingerprint);
    // On an explicit subnet of tsk's (why: task-subnets.ts), clear of this host's routes.
    const egress = await ensureNetworkOnPool(
      this.engine.networks,
      egressNetwork,
      EGRESS_SUBNET_POOL,
      (subnet) => ({
        Name: egressNetwork,
        Driver: 'bridge',
        Labels: { [LABEL_MANAGED]: 'true', [LABEL_ROLE]: 'egress', [LABEL_PROXY]: fingerprint, [LABEL_LOCKS]: this.domain },
        IPAM: { Driver: 'default', Config: [{ Subnet: subnet.subnet, Gateway: subnet.gateway }] },
      }),
      { alsoTaken: hostRoutedSubnets() },
    );
    // Forwarded host ports go to the host's address on the proxy's own bridge (a host service bound to
    // 0.0.0.0 answers there); in a VM-based engine only `host-gateway` leads to the real host.
    const gateway = networkGateway(egress.info);
    const hostAddress = facts.inVm || gateway === undefined ? 'host-gateway' : gateway;
    const spec = buildProxyContainerSpec({ fingerprint, domain: this.domain, image, config, egressNetwork, hostAddress });
    const proxy = await ensureProxyContainer(this.engine.docker, spec, { healthTimeoutMs: this.healthTimeoutMs, signal });
    if (!proxy.created) return egress.info;
    log.write('tsk', `Started network proxy ${proxyContainerName(fingerprint)}`);
    await this.reattachSurvivors(fingerprint, taskId);
    return egress.info;
  }

  /** A replaced proxy (it had died) gets back the networks of tasks that are still running. */
  private async reattachSurvivors(fingerprint: string, taskId: string): Promise<void> {
    const networks = await this.engine.networks.list([`${LABEL_PROXY}=${fingerprint}`, `${LABEL_ROLE}=task`]);
    for (const network of networks) {
      if (network.Name === taskNetworkName(taskId)) continue;
      if (!ownerMayBeAlive(network.Labels?.[LABEL_OWNER], network.Created)) continue;
      await this.engine.networks.connect(network.Name, proxyContainerName(fingerprint), [PROXY_ALIAS]);
    }
  }

  /**
   * A network named for this task exists only when an earlier attempt of the same task died without
   * cleaning up: free it (under its own proxy's lock) so this attempt starts clean.
   */
  private async clearLeftoverTaskNetwork(network: string, signal: AbortSignal | undefined): Promise<void> {
    const leftover = await this.engine.networks.inspect(network);
    if (!leftover) return;
    const fingerprint = leftover.Labels?.[LABEL_PROXY];
    if (fingerprint === undefined) {
      await this.engine.networks.remove(network);
      return;
    }
    await withProxyLock(fingerprint, { lockDir: this.options.lockDir, signal }, async () => {
      await detachTaskNetwork(this.engine, fingerprint, network);
      await retireProxyIfIdle(this.engine, fingerprint, this.retireOptions());
    });
  }

  /** A container's IPv4 address on a network. @throws ProxyError when it has none */
  private async memberAddress(network: string, container: string): Promise<string> {
    const info = await this.engine.networks.inspect(network);
    const member = Object.values(info?.Containers ?? {}).find((entry) => entry.Name === container);
    const address = member?.IPv4Address?.split('/')[0];
    if (!address) throw new ProxyError(`The proxy ${container} has no address on ${network}`);
    return address;
  }

  private engineFacts(): Promise<EngineFacts> {
    this.facts ??= (async () => {
      const [version, info, bridge] = await Promise.all([
        this.engine.docker.version(),
        this.engine.docker.info() as Promise<{ OperatingSystem?: string }>,
        this.engine.networks.inspect('bridge'),
      ]);
      assertEngineIsolates(version);
      return {
        inVm: /docker desktop/i.test(info.OperatingSystem ?? ''),
        bridge: { gateway: bridge && networkGateway(bridge), subnet: bridge && networkSubnet(bridge) },
      };
    })();
    this.facts.catch(() => (this.facts = undefined));
    return this.facts;
  }
}
