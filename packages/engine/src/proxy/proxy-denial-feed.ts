import type Dockerode from 'dockerode';
import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { lineWriter } from '../common/line-writer.js';
import { log as debug, type LogSink } from '../logging/index.js';
import { flushNonce, newFlushNonce, sendFlushMarker } from './denial-flush.js';
import { demuxLogs } from './proxy-container.js';
import { PROXY_PORT } from './proxy-names.js';
import { DenialTally, denialLogLine, inSubnet, parseDenialLine, type ProxyDenial, type ProxyDenials } from './proxy-denials.js';

/** Denials a task's log shows one by one; later ones are counted only (an agent may ask in a loop). */
export const LIVE_DENIAL_LINES = 100;

/** Longest proxy log line read whole (Squid's URLs reach 8 KiB); a longer one is cut, its URL with it. */
const PROXY_LINE_CHARS = 16 * 1024;

/**
 * Without a flush marker (see `denial-flush.ts`): how long a final reading waits for Squid and Docker to
 * pass on a request the sandbox saw denied.
 */
const SETTLE_MS = 300;

/** How long a flush marker may take, from sending it to its line on the log stream, before the final reading falls back to waiting. */
const FLUSH_TIMEOUT_MS = 1_000;

/** How long after its log stream ended a follower looks for the proxy again (it may have been replaced). */
const RETRY_MS = 1_000;

export interface DenialWatchOptions {
  /** The task network's IPv4 subnet: requests from there are the task's. */
  subnet: string;
  /**
   * When the task network was created (ms, the Docker host's clock): a request from its subnet logged
   * earlier was a removed network's, whose subnet Docker gave this one again.
   */
  since: number;
  /** The task's log, where each denial is said as it happens. */
  log: LogSink;
  /**
   * The proxy's egress network, where this process can reach the proxy (on the Docker host) to send a
   * flush marker when the task ends. Without it the final reading waits a fixed time instead.
   */
  egressNetwork?: string;
}

/** One task's view of its proxy's denials, for as long as its lease lasts. */
export interface DenialWatch {
  /** Catch up with the proxy's log (what the stream has not delivered yet) and return the task's denials. */
  settle(): Promise<ProxyDenials>;
  /** Stop watching; idempotent. Afterwards `settle()` returns what was counted. */
  stop(): void;
}

/**
 * Follows the logs of the proxies this process's tasks use, one stream per proxy container however many
 * of its tasks run here, and hands each denied request to the task whose network it came from.
 */
export class ProxyDenialFeed {
  private readonly followers = new Map<string, ProxyLogFollower>();
  /** Whether flush markers reach proxies from this process: once one timed out, later tasks wait instead. */
  private readonly reach = { markers: true };

  constructor(private readonly docker: Dockerode) {}

  /** Watch `proxyName`'s denials for one task until the watch is stopped. */
  watch(proxyName: string, options: DenialWatchOptions): DenialWatch {
    let follower = this.followers.get(proxyName);
    if (!follower) {
      follower = new ProxyLogFollower(this.docker, proxyName, this.reach, () => this.followers.delete(proxyName));
      this.followers.set(proxyName, follower);
    }
    const task = new TaskDenials(options);
    follower.add(task);
    const owner = follower;
    let stopped = false;
    return {
      settle: async () => {
        if (stopped) return task.tally.denials;
        const started = Date.now();
        // The marker's line arrived: the stream delivered every earlier denial, nothing to catch up with.
        if (options.egressNetwork !== undefined && (await owner.flush(options.egressNetwork))) return task.tally.denials;
        if (stopped) return task.tally.denials;
        await sleep(Math.max(0, SETTLE_MS - (Date.now() - started)));
        const reading = await owner.read(options.since).catch((error: unknown) => {
          debug.proxy('[%s] could not read the log: %s', proxyName, (error as Error).message);
          return [];
        });
        if (!stopped) task.report(task.tally.addReading(reading.filter((denial) => task.owns(denial))));
        return task.tally.denials;
      },
      stop: () => {
        if (stopped) return;
        stopped = true;
        owner.remove(task);
      },
    };
  }
}

/** One task's denials: which requests are its own, what its log was told. */
class TaskDenials {
  readonly tally = new DenialTally();
  private shown = 0;

  constructor(private readonly options: DenialWatchOptions) {}

  get since(): number {
    return this.options.since;
  }

  owns(denial: ProxyDenial): boolean {
    return denial.time >= this.options.since && inSubnet(denial.client, this.options.subnet);
  }

  /** Say new denials in the task's log, up to {@link LIVE_DENIAL_LINES}. */
  report(denials: readonly ProxyDenial[]): void {
    for (const denial of denials) {
      if (this.shown > LIVE_DENIAL_LINES) return;
      this.shown += 1;
      this.options.log.write(
        'warn',
        this.shown <= LIVE_DENIAL_LINES ? denialLogLine(denial) : 'proxy denied more requests: they are counted at the end, not listed',
      );
    }
  }
}

/**
 * The log stream of one proxy container while tasks of this process use it. Squid writes a line for each
 * request it denies to its stdout (see `squid/tsk-denials.conf`); the stream ends when the container goes,
 * and is picked up again for as long as tasks still watch (a proxy that died is replaced under its name).
 */
class ProxyLogFollower {
  private readonly tasks = new Set<TaskDenials>();
  private stream: NodeJS.ReadableStream | undefined;
  /** Squid's time of the latest denial streamed: a resumed stream skips what it repeats. */
  private latest = 0;
  private since = 0;
  /** Flush markers sent and not seen yet, by nonce. */
  private readonly markers = new Map<string, () => void>();
  /** Where this process reached the proxy last, until a marker fails (the proxy may have been replaced). */
  private address: string | undefined;

  constructor(
    private readonly docker: Dockerode,
    private readonly name: string,
    /** Shared by the feed's followers: a marker that timed out for one proxy would for the others too. */
    private readonly reach: { markers: boolean },
    private readonly onIdle: () => void,
  ) {}

  /** Hand this proxy's denials to `task` too; the first task starts the stream. */
  add(task: TaskDenials): void {
    const first = this.tasks.size === 0;
    this.tasks.add(task);
    if (first) void this.follow(Math.floor(task.since / 1000));
  }

  /** The last task gone stops the stream for good (a later task gets a follower of its own). */
  remove(task: TaskDenials): void {
    this.tasks.delete(task);
    if (this.tasks.size > 0) return;
    this.stop();
    this.onIdle();
  }

  /**
   * Send a flush marker and wait for its line on the live stream: true when it came (every denial logged
   * before it was delivered), false when there is no stream or the marker could not be sent or seen in time.
   */
  async flush(egressNetwork: string): Promise<boolean> {
    if (this.stream === undefined || !this.reach.markers) return false;
    const started = Date.now();
    const nonce = newFlushNonce();
    let seen!: () => void;
    const arrived = new Promise<true>((resolve) => (seen = () => resolve(true)));
    this.markers.set(nonce, seen);
    try {
      this.address ??= await this.egressAddress(egressNetwork);
      if (this.address === undefined) return false;
      const sent = await sendFlushMarker(this.address, PROXY_PORT, nonce, FLUSH_TIMEOUT_MS);
      if (sent !== 'answered') {
        debug.proxy('[%s] flush marker to %s %s: waiting instead', this.name, this.address, sent);
        this.address = undefined;
        // Nothing answers from here (no route to the proxy's network): no later task tries again.
        if (sent === 'timeout') this.reach.markers = false;
        return false;
      }
      const left = Math.max(0, FLUSH_TIMEOUT_MS - (Date.now() - started));
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), left)));
      const flushed = await Promise.race([arrived, timedOut]).finally(() => clearTimeout(timer));
      debug.proxy('[%s] flush marker %s in %dms', this.name, flushed ? 'seen' : 'not seen', Date.now() - started);
      return flushed;
    } catch (error) {
      debug.proxy('[%s] flush marker failed: %s', this.name, (error as Error).message);
      return false;
    } finally {
      this.markers.delete(nonce);
    }
  }

  /** The proxy's address on its egress network, or undefined when it has none. */
  private async egressAddress(egressNetwork: string): Promise<string | undefined> {
    const info = await this.docker.getContainer(this.name).inspect();
    const address = info.NetworkSettings?.Networks?.[egressNetwork]?.IPAddress;
    return address === undefined || address === '' ? undefined : address;
  }

  /** Every denial in the proxy's log since `since` (ms). */
  async read(since: number): Promise<ProxyDenial[]> {
    const buffer = (await this.docker.getContainer(this.name).logs({ stdout: true, stderr: false, follow: false, since: Math.floor(since / 1000) })) as unknown as Buffer;
    return demuxLogs(buffer)
      .split('\n')
      .map(parseDenialLine)
      .filter((denial): denial is ProxyDenial => denial !== undefined);
  }

  private async follow(since: number): Promise<void> {
    this.since = since;
    let stream: NodeJS.ReadableStream;
    try {
      stream = await this.docker.getContainer(this.name).logs({ follow: true, stdout: true, stderr: false, since });
    } catch (error) {
      debug.proxy('[%s] could not follow the log: %s', this.name, (error as Error).message);
      this.retry();
      return;
    }
    if (this.tasks.size === 0) {
      destroy(stream);
      return;
    }
    this.stream = stream;
    const resumedAfter = this.latest;
    const stdout = lineWriter((line) => this.deliver(line, resumedAfter), { maxChars: PROXY_LINE_CHARS });
    this.docker.modem.demuxStream(stream, stdout, new PassThrough().resume());
    const ended = () => {
      stdout.end();
      if (this.stream !== stream) return;
      this.stream = undefined;
      this.retry();
    };
    stream.once('end', ended);
    stream.once('error', ended);
  }

  private deliver(line: string, resumedAfter: number): void {
    const denial = parseDenialLine(line);
    if (!denial) return;
    // A marker of this process's: not a task's denial (it comes from the Docker host, in no task's subnet).
    const nonce = flushNonce(denial);
    const marker = nonce === undefined ? undefined : this.markers.get(nonce);
    if (marker !== undefined) {
      marker();
      return;
    }
    if (denial.time <= resumedAfter) return;
    this.latest = Math.max(this.latest, denial.time);
    for (const task of this.tasks) {
      if (task.owns(denial) && task.tally.addStreamed(denial)) task.report([denial]);
    }
  }

  private retry(): void {
    if (this.tasks.size === 0) return;
    const since = this.latest > 0 ? Math.floor(this.latest / 1000) : this.since;
    setTimeout(() => {
      if (this.tasks.size > 0 && this.stream === undefined) void this.follow(since);
    }, RETRY_MS).unref();
  }

  private stop(): void {
    const stream = this.stream;
    this.stream = undefined;
    if (stream) destroy(stream);
  }
}

function destroy(stream: NodeJS.ReadableStream): void {
  (stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
}
