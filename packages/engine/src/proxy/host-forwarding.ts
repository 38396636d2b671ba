import { createServer, isIPv4 } from 'node:net';

/** The host's loopback address: where a forwarded port goes first. */
export const LOOPBACK = '127.0.0.1';

/** What the tsk process forwards for one task: see {@link planHostForwarding}. */
export interface HostForwarding {
  /** The host's address on the proxy's egress bridge (its gateway): the proxy's socat connects there. */
  gateway: string;
  /** The egress network's IPv4 subnet (CIDR): the only peers a forwarder serves. */
  subnet: string;
  ports: readonly number[];
  /** Where a connection goes, tried in order while refused: 127.0.0.1, then the docker0 address. */
  targets: readonly string[];
}

export interface HostForwardingFacts {
  /** The task's `host_ports`, normalized. */
  hostPorts: readonly number[];
  /** Docker Desktop: its `host-gateway` reaches the host's loopback by itself. */
  inVm: boolean;
  /** Gateway and subnet of the proxy's egress network, as the engine reports them. */
  egress: { gateway: string | undefined; subnet: string | undefined };
  /**
   * Gateway and subnet of the engine's default bridge (`docker0`), as far as the engine reports them
   * (its inspect often leaves the default bridge's gateway out).
   */
  bridge: { gateway: string | undefined; subnet: string | undefined };
  /**
   * Which of the egress gateway and the {@link bridgeAddressCandidates} are addresses of this host (see
   * {@link bindableAddresses}): only those can be listened on, or forwarded to without leaving the host.
   */
  localAddresses: ReadonlySet<string>;
}

/** No forwarding: `reason` is worth a warning when the task lists host ports. */
export type HostForwardingPlan = { forward: HostForwarding } | { forward: undefined; reason: string | undefined };

/**
 * Whether and how this process forwards a task's host ports from the proxy's egress network to the host
 * (pure). The proxy itself reaches only the host's address on its egress bridge; services bound to
 * 127.0.0.1 or to the docker0 address answer only through a forwarder on that address, which only a
 * process on the Docker host itself can run.
 */
export function planHostForwarding(facts: HostForwardingFacts): HostForwardingPlan {
  if (facts.hostPorts.length === 0 || facts.inVm) return { forward: undefined, reason: undefined };
  const { gateway, subnet } = facts.egress;
  if (gateway === undefined || subnet === undefined || !isIPv4(gateway) || parseSubnet(subnet) === undefined || !ipv4InSubnet(gateway, subnet)) {
    return { forward: undefined, reason: 'the proxy’s egress network has no IPv4 gateway' };
  }
  if (!facts.localAddresses.has(gateway)) {
    // A remote engine, or tsk in a container of its own: the gateway is not an address of this process.
    return { forward: undefined, reason: `this tsk process is not on the Docker host (${gateway} is none of its addresses)` };
  }
  const docker0 = bridgeAddressCandidates(facts.bridge).find((address) => facts.localAddresses.has(address));
  const targets = docker0 !== undefined && docker0 !== LOOPBACK ? [LOOPBACK, docker0] : [LOOPBACK];
  return { forward: { gateway, subnet, ports: facts.hostPorts, targets } };
}

/**
 * Where the host's docker0 address may be (pure): the default bridge's gateway, or, since the engine's
 * inspect often leaves it out, the first address of its subnet, which Docker gives the bridge by default.
 */
export function bridgeAddressCandidates(bridge: HostForwardingFacts['bridge']): string[] {
  const candidates: string[] = [];
  if (bridge.gateway !== undefined && isIPv4(bridge.gateway)) candidates.push(bridge.gateway);
  const parsed = bridge.subnet === undefined ? undefined : parseSubnet(bridge.subnet);
  if (parsed !== undefined && parsed.mask !== 0 && parsed.mask !== 0xffffffff) candidates.push(ipv4String(parsed.base + 1));
  return [...new Set(candidates)];
}

/**
 * The addresses among `addresses` that belong to this host: a socket can be bound to them. (Node's list
 * of interfaces leaves out bridges that are down, as docker0 is while no container uses it.)
 */
export async function bindableAddresses(addresses: readonly (string | undefined)[]): Promise<Set<string>> {
  const candidates = [...new Set(addresses.filter((address): address is string => address !== undefined && isIPv4(address)))];
  const local = await Promise.all(
    candidates.map(
      (address) =>
        new Promise<boolean>((resolve) => {
          const server = createServer();
          server.once('error', () => resolve(false));
          server.listen({ host: address, port: 0, exclusive: true }, () => server.close(() => resolve(true)));
        }),
    ),
  );
  return new Set(candidates.filter((_, index) => local[index]));
}

/** Whether an IPv4 address (or an IPv4-mapped IPv6 one) lies in a CIDR subnet; false for anything unparseable. */
export function ipv4InSubnet(address: string, cidr: string): boolean {
  const value = ipv4Value(address.replace(/^::ffff:/i, ''));
  const subnet = parseSubnet(cidr);
  if (value === undefined || subnet === undefined) return false;
  return (value & subnet.mask) >>> 0 === subnet.base;
}

function parseSubnet(cidr: string): { base: number; mask: number } | undefined {
  const match = /^([0-9.]+)\/(\d{1,2})$/.exec(cidr);
  const base = match ? ipv4Value(match[1]!) : undefined;
  const bits = Number(match?.[2]);
  if (base === undefined || !(bits >= 0 && bits <= 32)) return undefined;
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return { base: (base & mask) >>> 0, mask };
}

function ipv4String(value: number): string {
  return [24, 16, 8, 0].map((shift) => (value >>> shift) & 0xff).join('.');
}

function ipv4Value(address: string): number | undefined {
  if (!isIPv4(address)) return undefined;
  return address.split('.').reduce((value, octet) => value * 256 + Number(octet), 0);
}
