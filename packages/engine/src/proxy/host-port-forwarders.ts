import { readFile, unlink } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { writeFileAtomic } from '../common/atomic-file.js';
import { log as debug, type LogSink } from '../logging/index.js';
import { ipv4InSubnet, type HostForwarding } from './host-forwarding.js';
import { currentOwner, localOwnerAlive } from './task-owner.js';

export interface HostPortForwardersOptions {
  /** The user's lock folder: where a listening forwarder leaves its marker for other tsk processes. */
  lockDir: string;
  /** `<host>/<pid>` written into markers. @defaultValue this process */
  owner?: string;
  /** How often a forwarder waiting for its port looks again. @defaultValue 1000 */
  pollMs?: number;
  /** Concurrent connections one forwarder serves; a hostile agent cannot eat the process's files. @defaultValue 256 */
  maxConnections?: number;
}

/** One listened-on (or wanted) `<gateway>:<port>` of this process, shared by the tasks that hold it. */
interface Forwarder {
  gateway: string;
  port: number;
  subnet: string;
  targets: readonly string[];
  marker: string;
  refs: number;
  server: Server | undefined;
  /** Both ends of every forwarded connection, destroyed when the last holder lets go. */
  sockets: Set<Socket>;
  /** While another listener has the port: the poll for it to go. */
  timer: NodeJS.Timeout | undefined;
  /** The last poll found another tsk process's forwarder on the port (it will go away; a host service may not). */
  tskHolds: boolean;
  /** Every change (listen, poll, close) runs on this chain, one at a time. */
  chain: Promise<void>;
  /** Why the port is not forwarded (told to every task that holds it). */
  problem: string | undefined;
}

/**
 * TCP forwarders from the proxy's egress network to this host's loopback: for each forwarded port, a
 * listener on the host's address on the egress bridge (where the proxy's socat connects) that passes each
 * connection from that network's subnet on to 127.0.0.1:<port>, or to the docker0 address when nothing
 * answers on loopback. Held per task, reference-counted per address and port, closed with the last hold.
 *
 * Only one socket can listen on `<gateway>:<port>`. When it is taken, something answers there already:
 * a host service listening on 0.0.0.0, or the forwarder of another tsk process sharing the proxy. Such a
 * forwarder leaves a marker (`host-port-<gateway>-<port>` in the lock folder, naming its process); a
 * forwarder that found the port taken while such a marker was live takes the port over once the marker
 * goes, so that tasks of several processes keep their forwarding whichever process ends first. A port
 * held by a host service is never polled for: we must not grab it while that service restarts.
 */
export class HostPortForwarders {
  private readonly forwarders = new Map<string, Forwarder>();
  /** Forwarders being closed: one opened again for the same port waits for the old one to let go. */
  private readonly closing = new Map<string, Promise<void>>();
  private readonly owner: string;
  private readonly pollMs: number;
  private readonly maxConnections: number;

  constructor(private readonly options: HostPortForwardersOptions) {
    this.owner = options.owner ?? currentOwner();
    this.pollMs = options.pollMs ?? 1000;
    this.maxConnections = options.maxConnections ?? 256;
  }

  /**
   * Forward `forwarding.ports` for one task, listening before it returns (when the port is free). Never
   * throws: a port that cannot be forwarded is a warning in `log`. Returns the release, to call once.
   */
  async hold(forwarding: HostForwarding, log: LogSink): Promise<() => Promise<void>> {
    const held = forwarding.ports.map((port) => this.ref(forwarding, port));
    await Promise.all(held.map((forwarder) => forwarder.chain));
    for (const { problem } of held) if (problem) log.write('warn', problem);
    return async () => {
      await Promise.all(held.map((forwarder) => this.unref(forwarder)));
    };
  }

  /** Ports this process listens on now, as `<gateway>:<port>` (for tests and diagnostics). */
  listening(): string[] {
    return [...this.forwarders.values()].filter((forwarder) => forwarder.server).map((forwarder) => `${forwarder.gateway}:${forwarder.port}`);
  }

  private ref(forwarding: HostForwarding, port: number): Forwarder {
    const key = `${forwarding.gateway}:${port}`;
    const existing = this.forwarders.get(key);
    if (existing) {
      existing.refs += 1;
      return existing;
    }
    const forwarder: Forwarder = {
      gateway: forwarding.gateway,
      port,
      subnet: forwarding.subnet,
      targets: forwarding.targets,
      marker: join(this.options.lockDir, `host-port-${forwarding.gateway}-${port}`),
      refs: 1,
      server: undefined,
      sockets: new Set(),
      timer: undefined,
      tskHolds: false,
      chain: this.closing.get(key) ?? Promise.resolve(),
      problem: undefined,
    };
    this.forwarders.set(key, forwarder);
    this.run(forwarder, () => this.open(forwarder));
    return forwarder;
  }

  private async unref(forwarder: Forwarder): Promise<void> {
    forwarder.refs -= 1;
    if (forwarder.refs > 0) return;
    const key = `${forwarder.gateway}:${forwarder.port}`;
    this.forwarders.delete(key);
    this.run(forwarder, () => this.close(forwarder));
    const closed = forwarder.chain;
    this.closing.set(key, closed);
    await closed;
    if (this.closing.get(key) === closed) this.closing.delete(key);
  }

  private run(forwarder: Forwarder, step: () => Promise<void>): void {
    forwarder.chain = forwarder.chain.then(step).catch((error: unknown) => debug.proxy('[%s:%d] %O', forwarder.gateway, forwarder.port, error));
  }

  private async open(forwarder: Forwarder): Promise<void> {
    const outcome = await this.listen(forwarder);
    if (outcome === 'listening') return;
    if (outcome !== 'EADDRINUSE') {
      // EACCES: a port below 1024 for an unprivileged user; EADDRNOTAVAIL: the address went away.
      forwarder.problem = `host_ports: cannot forward port ${forwarder.port} to this host's ${forwarder.targets.join(' or ')} (${outcome}); only a service listening on 0.0.0.0 answers`;
      return;
    }
    debug.proxy('[%s:%d] taken: a host service on 0.0.0.0 or another tsk process answers there', forwarder.gateway, forwarder.port);
    await this.poll(forwarder);
    if (forwarder.refs > 0 && !forwarder.server) {
      forwarder.timer = setInterval(() => this.run(forwarder, () => this.poll(forwarder)), this.pollMs);
      forwarder.timer.unref();
    }
  }

  /** One look at a taken port: listen once another tsk process's forwarder there has gone. */
  private async poll(forwarder: Forwarder): Promise<void> {
    if (forwarder.refs === 0 || forwarder.server) return;
    const holder = await readMarker(forwarder.marker);
    if (holder !== undefined && localOwnerAlive(holder)) {
      forwarder.tskHolds = true;
      return;
    }
    if (!forwarder.tskHolds) return;
    forwarder.tskHolds = false;
    if ((await this.listen(forwarder)) === 'listening') {
      clearInterval(forwarder.timer);
      debug.proxy('[%s:%d] taken over from a tsk process that ended', forwarder.gateway, forwarder.port);
    }
  }

  /** Listen on the forwarder's address and port: 'listening', or the error code. */
  private async listen(forwarder: Forwarder): Promise<string> {
    const server = createServer({ pauseOnConnect: true, allowHalfOpen: true }, (socket) => this.serve(forwarder, socket));
    server.maxConnections = this.maxConnections;
    const outcome = await new Promise<string>((resolve) => {
      server.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
      server.listen({ host: forwarder.gateway, port: forwarder.port, exclusive: true }, () => resolve('listening'));
    });
    if (outcome !== 'listening') return outcome;
    server.on('error', (error) => debug.proxy('[%s:%d] %O', forwarder.gateway, forwarder.port, error));
    forwarder.server = server;
    // Without its marker, another process only misses taking the port over: not worth failing for.
    await writeMarker(forwarder.marker, this.owner).catch((error: unknown) => debug.proxy('[%s] %O', forwarder.marker, error));
    debug.proxy('[%s:%d] forwarding to %s', forwarder.gateway, forwarder.port, forwarder.targets.join(', '));
    return outcome;
  }

  private async close(forwarder: Forwarder): Promise<void> {
    clearInterval(forwarder.timer);
    const server = forwarder.server;
    if (!server) return;
    forwarder.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of forwarder.sockets) socket.destroy();
    await closed;
    if ((await readMarker(forwarder.marker)) === this.owner) await unlink(forwarder.marker).catch(() => undefined);
    debug.proxy('[%s:%d] closed', forwarder.gateway, forwarder.port);
  }

  /** One connection: from the egress network only, on to the first target that accepts it. */
  private serve(forwarder: Forwarder, client: Socket): void {
    client.on('error', () => client.destroy());
    const peer = client.remoteAddress ?? '';
    // The listener's address is on a bridge every container of the host can send to; only the proxy's
    // network may use it.
    if (!ipv4InSubnet(peer, forwarder.subnet)) {
      debug.proxy('[%s:%d] refused %s: not on the proxy’s network', forwarder.gateway, forwarder.port, peer);
      client.destroy();
      return;
    }
    this.track(forwarder, client);
    this.connectTarget(forwarder, client, 0);
  }

  private connectTarget(forwarder: Forwarder, client: Socket, index: number): void {
    const upstream = connect({ host: forwarder.targets[index], port: forwarder.port, allowHalfOpen: true });
    this.track(forwarder, upstream);
    let connected = false;
    upstream.on('error', (error: NodeJS.ErrnoException) => {
      if (connected || client.destroyed) return client.destroy();
      // Nothing on loopback: try the docker0 address. Data waits in the paused client meanwhile.
      if (error.code === 'ECONNREFUSED' && index + 1 < forwarder.targets.length) return this.connectTarget(forwarder, client, index + 1);
      client.destroy();
    });
    client.once('close', () => {
      if (!connected) upstream.destroy();
    });
    upstream.once('connect', () => {
      connected = true;
      splice(client, upstream);
    });
  }

  private track(forwarder: Forwarder, socket: Socket): void {
    forwarder.sockets.add(socket);
    socket.once('close', () => forwarder.sockets.delete(socket));
  }
}

/** Pipe two connected sockets both ways; a half-close passes through, an error ends both. */
function splice(a: Socket, b: Socket): void {
  a.pipe(b);
  b.pipe(a);
  a.once('close', (hadError) => (hadError ? b.destroy() : b.end()));
  b.once('close', (hadError) => (hadError ? a.destroy() : a.end()));
}

async function readMarker(path: string): Promise<string | undefined> {
  try {
    return (await readFile(path, 'utf8')).slice(0, 300).trim();
  } catch {
    return undefined;
  }
}

/** Written aside and renamed into place: a reader never sees half a marker. */
async function writeMarker(path: string, owner: string): Promise<void> {
  await writeFileAtomic(path, `${owner}\n`);
}
