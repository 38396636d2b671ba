/**
 * The subnets of task networks (pure). tsk gives each task network an explicit subnet and gateway
 * instead of letting the engine pick, because of what Docker 20.10 keeps of a network whose removal the
 * engine's own shutdown interrupted: the record, marked for deletion, with its pool already released.
 * For a network created without an IPAM config that record has one config entry with no gateway and no
 * pool information, and the next start of the engine panics on it in libnetwork's `reservePools`
 * ("index out of range [0] with length 0") and never comes up. With the gateway in the config the engine
 * starts and removes the stale network itself. (Found by the chaos suite's engine restart: task networks
 * are removed whenever a task ends, also while the engine stops and kills the sandboxes.)
 *
 * A task network is internal and its bridge carries no host address (`inhibit_ipv4`), so its subnet is
 * never routed on the host: the only constraint is that no other network of the same engine overlaps it,
 * which the engine checks (two processes picking the same subnet: one is refused and picks again). The
 * pool is 198.19.0.0/16, the upper half of the range reserved for network benchmarks (RFC 2544), where no
 * real host lives: the proxy, which sits on every task network, never mistakes an outside address for a
 * task's.
 */

/** A range networks take their subnets from, and the size of each. */
export interface SubnetPool {
  base: string;
  prefix: number;
  subnetPrefix: number;
}

/** The pool task networks take their subnets from, and the size of each. */
export const TASK_SUBNET_POOL: SubnetPool = { base: '198.19.0.0', prefix: 16, subnetPrefix: 24 };

/**
 * The pool of the proxies' egress networks, the lower half of the same reserved range. Their bridges do
 * carry a host address (the proxy's way out, and host ports forwarded there), so a subnet is also
 * chosen clear of the routes of the host tsk runs on (`routedSubnets`), another engine's bridges
 * included. Explicit for the same reason as task networks: Docker's own pick cannot be pinned without a
 * short-lived network of its own, whose removal the same shutdown can interrupt.
 */
export const EGRESS_SUBNET_POOL: SubnetPool = { base: '198.18.0.0', prefix: 16, subnetPrefix: 24 };

export interface TaskSubnet {
  /** CIDR, e.g. `198.19.7.0/24`. */
  subnet: string;
  /** The first address, e.g. `198.19.7.1`: reserved by the engine, never on the host (inhibited). */
  gateway: string;
}

/** `a.b.c.d` → 32-bit number, or `undefined` for anything else (IPv6 included). */
function ipv4ToNumber(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return undefined;
    const byte = Number(part);
    if (byte > 255) return undefined;
    value = value * 256 + byte;
  }
  return value;
}

const numberToIpv4 = (value: number): string => [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');

/** An IPv4 CIDR as its first and last address; `undefined` for IPv6 or anything malformed. */
export function ipv4Range(cidr: string): { first: number; last: number } | undefined {
  const [address = '', prefixText] = cidr.split('/');
  const start = ipv4ToNumber(address);
  const prefix = prefixText === undefined ? 32 : Number(prefixText);
  if (start === undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > 32) return undefined;
  const size = 2 ** (32 - prefix);
  const first = start - (start % size);
  return { first, last: first + size - 1 };
}

/**
 * A subnet of {@link TASK_SUBNET_POOL} that overlaps none of `taken` (the engine's networks' subnets; IPv6
 * and malformed entries are ignored), chosen at random among the free ones so that processes creating
 * networks at the same moment seldom pick the same; `undefined` when the pool is full.
 */
export function pickTaskSubnet(taken: readonly string[], random: () => number = Math.random): TaskSubnet | undefined {
  return pickSubnet(TASK_SUBNET_POOL, taken, random);
}

/** {@link pickTaskSubnet} from any pool. */
export function pickSubnet(from: SubnetPool, taken: readonly string[], random: () => number = Math.random): TaskSubnet | undefined {
  const pool = ipv4Range(`${from.base}/${from.prefix}`);
  if (pool === undefined) return undefined;
  const size = 2 ** (32 - from.subnetPrefix);
  const ranges = taken.map(ipv4Range).filter((range): range is { first: number; last: number } => range !== undefined);
  const free: number[] = [];
  for (let first = pool.first; first + size - 1 <= pool.last; first += size) {
    const last = first + size - 1;
    if (!ranges.some((range) => range.first <= last && first <= range.last)) free.push(first);
  }
  if (free.length === 0) return undefined;
  const first = free[Math.min(free.length - 1, Math.floor(random() * free.length))]!;
  return { subnet: `${numberToIpv4(first)}/${from.subnetPrefix}`, gateway: numberToIpv4(first + 1) };
}

/**
 * The destinations of a routing table in `/proc/net/route`'s format (hex, little-endian) as CIDRs, the
 * default route left out: what a new bridge with a host address must not overlap.
 */
export function routedSubnets(procNetRoute: string): string[] {
  const subnets: string[] = [];
  for (const line of procNetRoute.split('\n').slice(1)) {
    const [, destination, , , , , , mask] = line.trim().split(/\s+/);
    if (destination === undefined || mask === undefined || !/^[0-9A-Fa-f]{8}$/.test(destination) || !/^[0-9A-Fa-f]{8}$/.test(mask)) continue;
    const bytes = (hex: string) => [6, 4, 2, 0].map((at) => parseInt(hex.slice(at, at + 2), 16));
    const prefix = bytes(mask).reduce((bits, byte) => bits + byte.toString(2).replaceAll('0', '').length, 0);
    if (prefix === 0) continue;
    subnets.push(`${bytes(destination).join('.')}/${prefix}`);
  }
  return subnets;
}

/** Whether the engine refused a network because its subnet overlaps another's (Docker: "Pool overlaps …"). */
export function isPoolOverlap(message: string): boolean {
  return /pool overlaps|overlaps with other one|networks have overlapping/i.test(message);
}
