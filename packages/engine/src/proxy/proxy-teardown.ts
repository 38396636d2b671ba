import type Dockerode from 'dockerode';
import { inspectContainer, removeContainer } from './proxy-container.js';
import { egressNetworkName, proxyContainerName } from './proxy-names.js';
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

/**
 * Remove the proxy and its egress network when no task network is attached any more. Call with the
 * proxy's lock held. Returns whether the proxy is gone.
 */
export async function removeProxyIfIdle(engine: ProxyEngine, fingerprint: string): Promise<boolean> {
  const name = proxyContainerName(fingerprint);
  const info = await inspectContainer(engine.docker, name);
  if (info && proxyUsers(info, fingerprint).length > 0) return false;
  if (info) await removeContainer(engine.docker, name);
  await engine.networks.remove(egressNetworkName(fingerprint));
  return true;
}
