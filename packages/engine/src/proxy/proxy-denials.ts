/**
 * The proxy's denials, read from its access log (pure). The proxy image logs each request it answers
 * with 403 to its stdout in the `tsk_denied` format (`squid/tsk-denials.conf`):
 *
 *     tsk-denied <unix seconds.millis> <client address> <squid status>/<http status> <method> <url>
 *
 * A proxy serves every task of its configuration; a request belongs to the task whose internal network
 * holds the client's address (each task network is its own subnet, with only the sandbox and the proxy on
 * it), at a time that network existed.
 */

/** First word of every line the proxy logs for a denied request. */
export const DENIAL_LINE_TAG = 'tsk-denied';

/** How many characters of a denied URL the task log shows. */
export const DENIAL_TARGET_CHARS = 200;

/** Host names listed in a task's denial summary; the rest are counted. */
export const DENIAL_SUMMARY_HOSTS = 10;

/** One request the proxy denied. Every field but `time` is the agent's text: hostile. */
export interface ProxyDenial {
  /** When Squid logged it (ms since the epoch, the Docker host's clock). */
  time: number;
  /** The client's IP address: the sandbox (or an image build) on its task network. */
  client: string;
  method: string;
  /** `host:port` for CONNECT, the URL otherwise. */
  target: string;
}

/** What the proxy denied one task. */
export interface ProxyDenials {
  count: number;
  /** The denied hosts, each once, in the order they were first denied. */
  hosts: string[];
}

/** No denials: a task without a proxy, or one that asked for nothing it may not have. */
export function noDenials(): ProxyDenials {
  return { count: 0, hosts: [] };
}

const LINE = /^tsk-denied (\d{1,12})\.(\d{3}) (\S+) (\S+)\/(\d{3}) (\S+) (\S+)/;

/**
 * One line of the proxy's output as a denial: only lines of the `tsk_denied` format for requests Squid
 * itself refused (`TCP_DENIED`; a 403 from an allowed server is not a denial). `undefined` for any other line.
 */
export function parseDenialLine(line: string): ProxyDenial | undefined {
  const match = LINE.exec(line);
  if (!match) return undefined;
  const [, seconds = '', millis = '', client = '', squidStatus = '', , method = '', target = ''] = match;
  if (!squidStatus.includes('DENIED')) return undefined;
  return { time: Number(seconds) * 1000 + Number(millis), client: unmapped(client), method, target };
}

/** An IPv4 address Squid may print in its IPv6-mapped form. */
function unmapped(address: string): string {
  return address.toLowerCase().startsWith('::ffff:') ? address.slice(7) : address;
}

/** The host a denial named: the host of a CONNECT's `host:port`, of a URL, or the target as it is. */
export function denialHost(denial: ProxyDenial): string {
  const { target } = denial;
  if (denial.method === 'CONNECT' || !target.includes('://')) {
    const bracketed = /^\[([^\]]*)\](?::\d*)?$/.exec(target);
    if (bracketed) return bracketed[1]!.toLowerCase();
    return target.replace(/:\d*$/, '').toLowerCase();
  }
  try {
    const host = new URL(target).hostname;
    return (host.startsWith('[') ? host.slice(1, -1) : host).toLowerCase();
  } catch {
    return target.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '').replace(/[/?#:].*$/, '').toLowerCase();
  }
}

/** The task log's line for a denial: `proxy denied CONNECT host:443`, `proxy denied GET http://…` (URL cut). */
export function denialLogLine(denial: ProxyDenial): string {
  const { target } = denial;
  const shown = target.length <= DENIAL_TARGET_CHARS ? target : `${target.slice(0, DENIAL_TARGET_CHARS)}…`;
  return `proxy denied ${denial.method} ${shown}`;
}

/** A key telling two log lines of one request apart from two requests (see {@link DenialTally}). */
export function denialKey(denial: ProxyDenial): string {
  return `${denial.time} ${denial.client} ${denial.method} ${denial.target}`;
}

/** An IPv4 address as a number, or undefined. */
function ipv4(address: string): number | undefined {
  const parts = address.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255) return undefined;
    value = value * 256 + Number(part);
  }
  return value;
}

/** Whether IPv4 `address` lies in the IPv4 `subnet` (CIDR). False for anything unparsable. */
export function inSubnet(address: string, subnet: string): boolean {
  const [base, bits] = subnet.split('/');
  const prefix = Number(bits);
  const network = ipv4(base ?? '');
  const host = ipv4(address);
  if (network === undefined || host === undefined || !/^\d{1,2}$/.test(bits ?? '') || prefix > 32) return false;
  const size = 2 ** (32 - prefix);
  return Math.floor(host / size) === Math.floor(network / size);
}

/**
 * The denials of one task, each counted once however many readings report it: the live log stream, and
 * a final read of the proxy's log that catches what the stream had not delivered yet. A request counts as
 * often as the reading that saw it most often saw it (two requests logged in the same millisecond with the
 * same URL are two only if one reading saw both).
 */
export class DenialTally {
  /** Per request key: how often the reading that saw it most often saw it. */
  private readonly seen = new Map<string, number>();
  /** Per request key: how often the live stream delivered it. */
  private readonly streamed = new Map<string, number>();
  private readonly hosts = new Set<string>();
  private total = 0;

  /** Count a denial the live stream delivered; whether it is new. */
  addStreamed(denial: ProxyDenial): boolean {
    const key = denialKey(denial);
    const count = (this.streamed.get(key) ?? 0) + 1;
    this.streamed.set(key, count);
    return this.raise(key, count, denial);
  }

  /** Count the denials of one complete reading of the log; returns the new ones. */
  addReading(denials: readonly ProxyDenial[]): ProxyDenial[] {
    const inReading = new Map<string, number>();
    return denials.filter((denial) => {
      const key = denialKey(denial);
      const count = (inReading.get(key) ?? 0) + 1;
      inReading.set(key, count);
      return this.raise(key, count, denial);
    });
  }

  get denials(): ProxyDenials {
    return { count: this.total, hosts: [...this.hosts] };
  }

  private raise(key: string, count: number, denial: ProxyDenial): boolean {
    if (count <= (this.seen.get(key) ?? 0)) return false;
    this.seen.set(key, count);
    this.hosts.add(denialHost(denial));
    this.total += 1;
    return true;
  }
}

/** The run's closing line: `Proxy denied 3 request(s) of this task: a.example, b.example`. */
export function denialsSummaryLine(denials: ProxyDenials): string {
  const listed = denials.hosts.slice(0, DENIAL_SUMMARY_HOSTS).map((host) => host.slice(0, DENIAL_TARGET_CHARS));
  const more = denials.hosts.length - listed.length;
  return `Proxy denied ${denials.count} request(s) of this task: ${listed.join(', ')}${more > 0 ? ` and ${more} more host(s)` : ''}`;
}

/**
 * A task's summary with its denials said, when there were any: `… (proxy denied 3 requests)`, or
 * `Proxy denied 3 requests` for an agent that gave no summary.
 */
export function summaryWithDenials(summary: string | undefined, denials: ProxyDenials): string | undefined {
  if (denials.count === 0) return summary;
  const note = `proxy denied ${denials.count} request${denials.count === 1 ? '' : 's'}`;
  if (summary === undefined || summary.trim() === '') return `P${note.slice(1)}`;
  return `${summary} (${note})`;
}
