import type Dockerode from 'dockerode';
import { inspectContainer, removeContainer } from './proxy-container.js';
import { clearIdleDeadline, idleVerdict, readIdleDeadline, writeIdleDeadline } from './idle-deadline.js';
import { egressNetworkName, proxyContainerName } from './proxy-names.js';
import { dismissIdleReaper } from './reaper-lease.js';
import type { DockerNetworkClient } from './network-client.js';

/** The Docker objects the teardown steps work on. */
export interface ProxyEngine {
  docker: Dockerode;
  networks: DockerNetworkClient;
}

/**
 * The proxy's users, read from the engine rather than from any counter of ours: every network it is
 * attached to besides its egress network is a task network in use (attached under the proxy's lock when
 * a task starts, detached under it when the task ends). Being derived from the engine, the count is right
 * whichever process started or ended which task, and survives tsk processes dying.
 */
export function proxyUsers(info: Dockerode.ContainerInspectInfo, fingerprint: string): string[] {
  const egress = egressNetworkName(fingerprint);
  return Object.keys(info.NetworkSettings.Networks ?? {}).filter((name) => name !== egress);
}

/**
 * Detach the proxy from a task network and remove that network. Call with the proxy's lock held.
 * Returns false when the network could not be removed (a container is still on it); the proxy is
 * detached either way, so the task no longer counts as a user.
 */
export async function detachTaskNetwork(engine: ProxyEngine, fingerprint: string, network: string): Promise<boolean> {
  await engine.networks.disconnect(network, proxyContainerName(fingerprint));
  const info = await engine.networks.inspect(network);
  if (info && Object.keys(info.Containers ?? {}).length > 0) return false;
  await engine.networks.remove(network);
  return true;
}

export interface RetireOptions {
  /** The user's lock folder, where the proxy's idle deadline is kept (see `idle-deadline.ts`). */
  lockDir: string;
  /** How long an idle proxy stays up; 0 removes it at once. */
  idleTimeoutMs: number;
  /** The last task has just left: the idle clock starts now. */
  fresh?: boolean;
  /** Remove an idle proxy whatever its deadline (`tsk proxy stop`). */
  force?: boolean;
  /** @defaultValue Date.now() */
  now?: number;
}

/** `in-use`: a task network is attached; `kept`: idle, warm until its deadline; `removed`: gone (with its egress network). */
export type RetireOutcome = 'in-use' | 'kept' | 'removed';

/**
 * Decide the fate of a proxy no task may be using: keep it while a task network is attached; once
 * none is, keep it warm until its idle deadline (so the next task with the same configuration starts
 * on it), then remove it and its egress network. A proxy that stopped running goes at once. Call with
 * the proxy's lock held: a task starting on it holds the same lock until it is attached, so it can never
 * lose its proxy to this.
 */
export async function retireProxyIfIdle(engine: ProxyEngine, fingerprint: string, options: RetireOptions): Promise<RetireOutcome> {
  const name = proxyContainerName(fingerprint);
  const info = await inspectContainer(engine.docker, name);
  if (info && proxyUsers(info, fingerprint).length > 0) {
    // Its tasks write a fresh deadline when the last of them leaves; an old one means nothing now.
    await clearIdleDeadline(options.lockDir, fingerprint);
    return 'in-use';
  }
  if (info?.State.Running === true) {
    const now = options.now ?? Date.now();
    const deadline = options.fresh === true || options.force === true ? undefined : await readIdleDeadline(options.lockDir, fingerprint);
    const verdict = idleVerdict({ deadline, now, idleTimeoutMs: options.idleTimeoutMs, fresh: options.fresh, force: options.force });
    if (verdict.action === 'keep') {
      if (verdict.writeDeadline !== undefined) await writeIdleDeadline(options.lockDir, fingerprint, verdict.writeDeadline);
      return 'kept';
    }
  }
  if (info) await removeContainer(engine.docker, name);
  await engine.networks.remove(egressNetworkName(fingerprint));
  await clearIdleDeadline(options.lockDir, fingerprint);
  // Nothing left to wait for: the proxy's idle reaper (when this is not it) stops now, not at the deadline.
  await dismissIdleReaper(options.lockDir, fingerprint);
  return 'removed';
}
