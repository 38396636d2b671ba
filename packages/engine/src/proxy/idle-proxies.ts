import { LABEL_MANAGED, LABEL_TASK } from '../docker/container-spec.js';
import { ProxyError } from '../errors/index.js';
import { inspectContainer } from './proxy-container.js';
import { withProxyLock } from './proxy-lock.js';
import { LABEL_OWNER, LABEL_PROXY, LABEL_ROLE, inLockDomain, proxyContainerName } from './proxy-names.js';
import { expiredIdleProxies } from './idle-deadline.js';
import { detachTaskNetwork, retireProxyIfIdle, type ProxyEngine } from './proxy-teardown.js';
import { ownerMayBeAlive } from './task-owner.js';

/** What `tsk proxy stop` did. */
export interface StopIdleProxiesResult {
  /** Proxy containers removed (with their egress networks). */
  removedProxies: string[];
  /** Task networks removed because their task is gone. */
  removedNetworks: string[];
  /** Proxies kept because a task still uses them. */
  inUse: string[];
  /** Idle proxies kept warm until their idle deadline (never with `force`). */
  warm: string[];
}

export interface StopIdleProxiesOptions {
  /** The user's lock folder, where each proxy's lock is taken. */
  lockDir: string;
  /** The lock domain whose proxies are swept (see `LABEL_LOCKS`); other domains' are left alone. */
  domain: string;
  /**
   * Remove idle proxies whatever their idle deadline (`tsk proxy stop`); otherwise an idle proxy is kept
   * until its deadline (one of `idleTimeoutMs` from now is recorded when it has none).
   */
  force?: boolean;
  /** `[proxy] idle_timeout` of the sweeping process. @defaultValue 0 */
  idleTimeoutMs?: number;
  /**
   * The sweeping process's own task networks (its `tsk.owner`) and which tasks it still holds a lease
   * for: a network it made for a task it no longer holds is dead although its owner lives (the removal at
   * the task's end failed, as while the engine restarts). @defaultValue owners are judged alive or dead only
   */
  heldHere?: { owner: string; holds: (taskId: string) => boolean };
}

/**
 * Remove every proxy of lock domain `domain` no task uses any more (with `force`, or once its idle
 * deadline has passed), with its egress network, and the task networks
 * of tasks that are gone: no container left on the network and the process that created it dead (or,
 * for another host's process, the network older than a grace period). Networks of live tasks are never
 * touched, so this is safe to run while tasks run. Each proxy is handled under its lock. Other users'
 * proxies are not ours to judge: their locks are in their own lock folders, out of our reach.
 */
export async function stopIdleProxies(engine: ProxyEngine, options: StopIdleProxiesOptions): Promise<StopIdleProxiesResult> {
  const result: StopIdleProxiesResult = { removedProxies: [], removedNetworks: [], inUse: [], warm: [] };
  const retire = { lockDir: options.lockDir, idleTimeoutMs: options.idleTimeoutMs ?? 0, force: options.force };
  const fingerprints = await knownFingerprints(engine, options.domain);
  for (const fingerprint of fingerprints) {
    await withProxyLock(fingerprint, { lockDir: options.lockDir }, async () => {
      await removeDeadTaskNetworks(engine, fingerprint, options, result);
      const name = proxyContainerName(fingerprint);
      const existed = (await inspectContainer(engine.docker, name)) !== undefined;
      const outcome = await retireProxyIfIdle(engine, fingerprint, retire);
      if (outcome === 'removed' && existed) result.removedProxies.push(name);
      else if (outcome === 'in-use') result.inUse.push(name);
      else if (outcome === 'kept') result.warm.push(name);
    });
  }
  return result;
}

/**
 * Remove the idle proxies of this lock folder whose idle deadline has passed: the cheap look every tsk
 * process takes when its task ends, so that a warm proxy outlives no `tsk run` by much more than its
 * timeout even without a worker. Reads only the deadline files; takes a lock only for an expired one.
 * Returns the proxies removed.
 */
export async function sweepExpiredProxies(engine: ProxyEngine, options: { lockDir: string; idleTimeoutMs: number; now?: number }): Promise<string[]> {
  const now = options.now ?? Date.now();
  const removed: string[] = [];
  for (const fingerprint of await expiredIdleProxies(options.lockDir, now)) {
    await withProxyLock(fingerprint, { lockDir: options.lockDir }, async () => {
      const outcome = await retireProxyIfIdle(engine, fingerprint, { lockDir: options.lockDir, idleTimeoutMs: options.idleTimeoutMs, now });
      if (outcome === 'removed') removed.push(proxyContainerName(fingerprint));
    });
  }
  return removed;
}

/** Fingerprints of every proxy container and every proxy network tsk made for lock domain `domain`, sorted. */
async function knownFingerprints(engine: ProxyEngine, domain: string): Promise<string[]> {
  let containers;
  try {
    containers = await engine.docker.listContainers({ all: true, filters: { label: [`${LABEL_ROLE}=proxy`, `${LABEL_MANAGED}=true`] } });
  } catch (error) {
    throw new ProxyError(`Could not list proxy containers: ${(error as Error).message}`, { cause: error });
  }
  const networks = await engine.networks.list([LABEL_PROXY, `${LABEL_MANAGED}=true`]);
  const labels = [...containers.map((container) => container.Labels), ...networks.map((network) => network.Labels)]
    .filter((labelled) => inLockDomain(labelled, domain))
    .map((labelled) => labelled?.[LABEL_PROXY]);
  return [...new Set(labels.filter((label): label is string => typeof label === 'string' && /^[0-9a-f]+$/.test(label)))].sort();
}

async function removeDeadTaskNetworks(engine: ProxyEngine, fingerprint: string, options: StopIdleProxiesOptions, result: StopIdleProxiesResult): Promise<void> {
  const name = proxyContainerName(fingerprint);
  const labelled = await engine.networks.list([`${LABEL_PROXY}=${fingerprint}`, `${LABEL_ROLE}=task`]);
  for (const listed of labelled) {
    const network = await engine.networks.inspect(listed.Name);
    if (!network || !inLockDomain(network.Labels, options.domain)) continue;
    const others = Object.values(network.Containers ?? {}).filter((member) => member.Name !== name);
    if (others.length > 0) continue;
    const owner = network.Labels?.[LABEL_OWNER];
    const task = network.Labels?.[LABEL_TASK];
    const mine = options.heldHere !== undefined && owner === options.heldHere.owner;
    if (mine ? task !== undefined && options.heldHere!.holds(task) : ownerMayBeAlive(owner, network.Created)) continue;
    if (await detachTaskNetwork(engine, fingerprint, network.Name)) result.removedNetworks.push(network.Name);
  }
}
