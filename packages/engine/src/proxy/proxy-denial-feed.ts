import type Dockerode from 'dockerode';
import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { lineWriter } from '../common/line-writer.js';
import { log as debug, type LogSink } from '../logging/index.js';
import { demuxLogs } from './proxy-container.js';
import { DenialTally, denialLogLine, inSubnet, parseDenialLine, type ProxyDenial, type ProxyDenials } from './proxy-denials.js';

/** Denials a task's log shows one by one; later ones are counted only (an agent may ask in a loop). */
export const LIVE_DENIAL_LINES = 100;

/** Longest proxy log line read whole (Squid's URLs reach 8 KiB); a longer one is cut, its URL with it. */
const PROXY_LINE_CHARS = 16 * 1024;

/** How long a final reading waits for Squid and Docker to pass on a request the sandbox saw denied. */
const SETTLE_MS = 300;

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

  constructor(private readonly docker: Dockerode) {}

  /** Watch `proxyName`'s denials for one task until the watch is stopped. */
  watch(proxyName: string, options: DenialWatchOptions): DenialWatch {
    let follower = this.followers.get(proxyName);
    if (!follower) {
      follower = new ProxyLogFollower(this.docker, proxyName, () => this.followers.delete(proxyName));
      this.followers.set(proxyName, follower);
    }
    const task = new TaskDenials(options);
    follower.add(task);
    const owner = follower;
    let stopped = false;
    return {
      settle: async () => {
        if (stopped) return task.tally.denials;
        await sleep(SETTLE_MS);
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

  constructor(
    private readonly docker: Dockerode,
    private readonly name: string,
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
    if (!denial || denial.time <= resumedAfter) return;
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
