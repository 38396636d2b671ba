import type Dockerode from 'dockerode';
import { dockerStatus } from '../docker/docker-client.js';
import { ProxyError } from '../errors/index.js';
import { log } from '../logging/index.js';

/**
 * The network operations the proxy needs, each safe to repeat: creating what exists, removing what is
 * gone, disconnecting what is not connected are no-ops. Anything else becomes a {@link ProxyError}.
 */
export class DockerNetworkClient {
  constructor(private readonly docker: Dockerode) {}

  /** Inspect a network by name; `undefined` when there is none. */
  async inspect(name: string): Promise<Dockerode.NetworkInspectInfo | undefined> {
    try {
      return (await this.docker.getNetwork(name).inspect()) as Dockerode.NetworkInspectInfo;
    } catch (error) {
      if (dockerStatus(error) === 404) return undefined;
      throw wrap(error, `inspect network ${name}`);
    }
  }

  /** Create a network; `created: false` when one of that name already exists (it is returned as is). */
  async ensure(options: Dockerode.NetworkCreateOptions): Promise<{ info: Dockerode.NetworkInspectInfo; created: boolean }> {
    const existing = await this.inspect(options.Name);
    if (existing) return { info: existing, created: false };
    try {
      // CheckDuplicate: engines before API 1.44 otherwise accept two networks of one name.
      await this.docker.createNetwork({ ...options, CheckDuplicate: true });
      log.proxy('[%s] network created', options.Name);
    } catch (error) {
      if (dockerStatus(error) !== 409) throw wrap(error, `create network ${options.Name}`);
    }
    const info = await this.inspect(options.Name);
    if (!info) throw new ProxyError(`Network ${options.Name} vanished right after it was created`);
    return { info, created: true };
  }

  /** Remove a network; gone already is fine. */
  async remove(name: string): Promise<void> {
    try {
      await this.docker.getNetwork(name).remove();
      log.proxy('[%s] network removed', name);
    } catch (error) {
      if (dockerStatus(error) === 404) return;
      throw wrap(error, `remove network ${name}`);
    }
  }

  /** Attach a container to a network under `aliases`; already attached is fine. */
  async connect(network: string, container: string, aliases: string[]): Promise<void> {
    try {
      await this.docker.getNetwork(network).connect({ Container: container, EndpointConfig: { Aliases: aliases } });
      log.proxy('[%s] connected %s', network, container);
    } catch (error) {
      if (dockerStatus(error) === 403 && /already exists/i.test(messageOf(error))) return;
      throw wrap(error, `connect ${container} to network ${network}`);
    }
  }

  /** Detach a container from a network; not attached, or either of them gone, is fine. */
  async disconnect(network: string, container: string): Promise<void> {
    try {
      await this.docker.getNetwork(network).disconnect({ Container: container, Force: true });
      log.proxy('[%s] disconnected %s', network, container);
    } catch (error) {
      // Docker 20.10 answers 500 (later versions 403) for "is not connected", also for a missing network.
      if (dockerStatus(error) === 404 || /is not connected/i.test(messageOf(error))) return;
      throw wrap(error, `disconnect ${container} from network ${network}`);
    }
  }

  /** The IPv4 and IPv6 subnets of every network of the engine (what a new explicit subnet must not overlap). */
  async subnetsInUse(): Promise<string[]> {
    try {
      const networks = await this.docker.listNetworks();
      return networks.flatMap((network) => (network.IPAM?.Config ?? []).map((config) => config.Subnet).filter((subnet): subnet is string => !!subnet));
    } catch (error) {
      throw wrap(error, 'list networks');
    }
  }

  /** Networks carrying all of `labels` (`key=value`). */
  async list(labels: string[]): Promise<Dockerode.NetworkInspectInfo[]> {
    try {
      return await this.docker.listNetworks({ filters: { label: labels } });
    } catch (error) {
      throw wrap(error, 'list networks');
    }
  }
}

/** The IPv4 gateway address Docker assigned to a network, if any. */
export function networkGateway(info: Dockerode.NetworkInspectInfo): string | undefined {
  const gateways = (info.IPAM?.Config ?? []).map((config) => config.Gateway).filter((gateway): gateway is string => !!gateway);
  return gateways.find((gateway) => !gateway.includes(':'));
}

/** The IPv4 subnet (CIDR) Docker assigned to a network, if any. */
export function networkSubnet(info: Dockerode.NetworkInspectInfo): string | undefined {
  const subnets = (info.IPAM?.Config ?? []).map((config) => config.Subnet).filter((subnet): subnet is string => !!subnet);
  return subnets.find((subnet) => !subnet.includes(':'));
}

function wrap(error: unknown, action: string): ProxyError {
  return new ProxyError(`Could not ${action}: ${messageOf(error)}`, { cause: error });
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
