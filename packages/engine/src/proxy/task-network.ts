import type Dockerode from 'dockerode';
import { LABEL_MANAGED, LABEL_TASK } from '../docker/container-spec.js';
import { ProxyError } from '../errors/index.js';
import type { DockerNetworkClient } from './network-client.js';
import { LABEL_OWNER, LABEL_PROXY, LABEL_ROLE, LABEL_LOCKS, taskNetworkName } from './proxy-names.js';
import { readFileSync } from 'node:fs';
import { isPoolOverlap, pickSubnet, routedSubnets, TASK_SUBNET_POOL, type SubnetPool, type TaskSubnet } from './task-subnets.js';

/**
 * Docker's bridge driver gives an `--internal` network's gateway address to the host's bridge interface,
 * so a sandbox reaches every host service bound to 0.0.0.0 at that address. This option keeps the
 * address off the bridge (the gateway then answers nothing), while the proxy, on the same bridge, stays
 * reachable. Honoured since Docker 20.10 (API 1.41).
 */
export const INHIBIT_IPV4_OPTION = 'com.docker.network.bridge.inhibit_ipv4';
const MIN_API_VERSION = [1, 41] as const;

export interface TaskNetworkOptions {
  taskId: string;
  fingerprint: string;
  /** `<host>/<pid>` of the process running the task (see `LABEL_OWNER`). */
  owner: string;
  /** The lock domain the proxy objects belong to (their `tsk.locks` label). */
  domain: string;
}

/**
 * Create options of a task's network (pure): internal, no host address on its bridge, labelled, on an
 * explicit subnet and gateway (why: `task-subnets.ts`).
 */
export function taskNetworkCreateOptions(options: TaskNetworkOptions & { subnet: TaskSubnet }): Dockerode.NetworkCreateOptions {
  return {
    Name: taskNetworkName(options.taskId),
    Driver: 'bridge',
    Internal: true,
    EnableIPv6: false,
    Options: { [INHIBIT_IPV4_OPTION]: 'true' },
    IPAM: { Driver: 'default', Config: [{ Subnet: options.subnet.subnet, Gateway: options.subnet.gateway }] },
    Labels: {
      [LABEL_MANAGED]: 'true',
      [LABEL_ROLE]: 'task',
      [LABEL_TASK]: options.taskId,
      [LABEL_PROXY]: options.fingerprint,
      [LABEL_OWNER]: options.owner,
      [LABEL_LOCKS]: options.domain,
    },
  };
}

/** How many subnets a task network creation tries when others take theirs at the same moment. */
const SUBNET_ATTEMPTS = 8;

/**
 * Create a task's network (or return the one of that name: `created: false`) on a free subnet of
 * {@link TASK_SUBNET_POOL}.
 *
 * @throws ProxyError when the pool is full, or the engine keeps refusing.
 */
export function ensureTaskNetwork(
  networks: Pick<DockerNetworkClient, 'inspect' | 'ensure' | 'subnetsInUse'>,
  options: TaskNetworkOptions,
  random: () => number = Math.random,
): Promise<{ info: Dockerode.NetworkInspectInfo; created: boolean }> {
  return ensureNetworkOnPool(networks, taskNetworkName(options.taskId), TASK_SUBNET_POOL, (subnet) => taskNetworkCreateOptions({ ...options, subnet }), { random });
}

/**
 * Create network `name` (or return the one of that name: `created: false`) with the options `build`
 * makes for a subnet of `pool` that none of the engine's networks (nor `alsoTaken`) overlaps, as the
 * engine shows them now; picked again when the engine refuses it because another process took it
 * meanwhile.
 *
 * @throws ProxyError when the pool is full, or the engine keeps refusing.
 */
export async function ensureNetworkOnPool(
  networks: Pick<DockerNetworkClient, 'inspect' | 'ensure' | 'subnetsInUse'>,
  name: string,
  pool: SubnetPool,
  build: (subnet: TaskSubnet) => Dockerode.NetworkCreateOptions,
  { alsoTaken = [], random = Math.random }: { alsoTaken?: readonly string[]; random?: () => number } = {},
): Promise<{ info: Dockerode.NetworkInspectInfo; created: boolean }> {
  const existing = await networks.inspect(name);
  if (existing) return { info: existing, created: false };
  const taken = [...(await networks.subnetsInUse()), ...alsoTaken];
  for (let attempt = 1; ; attempt++) {
    const subnet = pickSubnet(pool, taken, random);
    if (subnet === undefined) {
      throw new ProxyError(`No free subnet for network ${name} in ${pool.base}/${pool.prefix}`, {
        hint: 'remove the networks tsk left behind with `tsk proxy stop`, or networks of your own in that range',
      });
    }
    try {
      return await networks.ensure(build(subnet));
    } catch (error) {
      if (attempt >= SUBNET_ATTEMPTS || !(error instanceof Error) || !isPoolOverlap(error.message)) throw error;
      taken.push(subnet.subnet);
    }
  }
}

/**
 * The subnets this host routes (`/proc/net/route`: this process's network namespace, which is the
 * engine's when tsk runs beside it; none where it cannot be read).
 */
export function hostRoutedSubnets(path = '/proc/net/route'): string[] {
  try {
    return routedSubnets(readFileSync(path, 'utf8'));
  } catch {
    return [];
  }
}

/**
 * Fail closed unless the engine is one that honours {@link INHIBIT_IPV4_OPTION}: Docker's own engine at
 * API 1.41 (20.10) or later. Other engines speaking the Docker API (Podman) accept the option and may
 * ignore it, which would leave the host open to every sandbox.
 *
 * @throws ProxyError naming the engine and what to do instead.
 */
export function assertEngineIsolates(version: { ApiVersion?: string; Components?: { Name: string }[] }): void {
  const names = (version.Components ?? []).map((component) => component.Name);
  const foreign = names.find((name) => /podman/i.test(name));
  if (foreign !== undefined) {
    throw new ProxyError(`Network isolation needs Docker's engine; this engine is ${foreign}`, {
      hint: 'use Docker 20.10 or later, or run with --no-network-isolation at your own risk',
    });
  }
  const [major, minor] = (version.ApiVersion ?? '0.0').split('.').map((part) => Number(part));
  const [minMajor, minMinor] = MIN_API_VERSION;
  if (major === undefined || minor === undefined || Number.isNaN(major) || Number.isNaN(minor) || major < minMajor || (major === minMajor && minor < minMinor)) {
    throw new ProxyError(
      `Network isolation needs Docker 20.10 (API ${minMajor}.${minMinor}) or later to keep sandboxes off the host; this engine speaks API ${version.ApiVersion ?? 'unknown'}`,
      { hint: 'upgrade Docker, or run with --no-network-isolation at your own risk' },
    );
  }
}

/**
 * Check a created task network really is isolated: internal, and with the host address inhibited.
 *
 * @throws ProxyError when the engine dropped either setting.
 */
export function assertTaskNetworkIsolated(info: Dockerode.NetworkInspectInfo): void {
  if (!info.Internal) {
    throw new ProxyError(`Network ${info.Name} is not internal: the engine ignored --internal`);
  }
  if (info.Options?.[INHIBIT_IPV4_OPTION] !== 'true') {
    throw new ProxyError(`Network ${info.Name} lacks ${INHIBIT_IPV4_OPTION}: its gateway would expose the host's services`, {
      hint: 'use the Docker bridge network driver (Docker 20.10 or later)',
    });
  }
  if (info.Driver !== 'bridge') {
    throw new ProxyError(`Network ${info.Name} uses driver ${info.Driver}, not bridge`);
  }
}
