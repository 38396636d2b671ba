import type Dockerode from 'dockerode';
import { once } from 'node:events';
import type { Duplex } from 'node:stream';
import { lineWriter } from '../common/line-writer.js';
import { ContainerError } from '../errors/index.js';
import { LOG_LIMITS } from '../logging/log-limits.js';
import { log } from '../logging/logger.js';
import { dockerStatus } from './docker-client.js';
import type { TerminalSession, TerminalSize } from './terminal-session.js';

export interface SandboxRunOptions {
  onStdout: (line: string) => void;
  onStderr: (line: string) => void;
  /** Aborting kills the container; `run` then resolves with `cancelled: true`. */
  signal?: AbortSignal;
}

export interface SandboxExit {
  exitCode: number;
  cancelled: boolean;
}

export interface SandboxTerminalOptions {
  /** Aborting kills the container; `runInteractive` then resolves with `cancelled: true`. */
  signal?: AbortSignal;
}

/** How long to wait for the last output to drain after the container has exited. */
const OUTPUT_DRAIN_MS = 2000;
/** The first resize can race the TTY's creation on a slow engine: tried this often, this far apart. */
const FIRST_RESIZE_TRIES = 5;
const FIRST_RESIZE_DELAY_MS = 100;

/**
 * One task's container: created, attached before start (so no output is lost), waited for, and removed
 * exactly once however the task ends. `remove()` is idempotent and also runs on `await using` disposal.
 */
export class SandboxContainer implements AsyncDisposable {
  private removing: Promise<void> | undefined;

  private constructor(
    private readonly container: Dockerode.Container,
    readonly name: string,
  ) {}

  get id(): string {
    return this.container.id;
  }

  static async create(docker: Dockerode, spec: Dockerode.ContainerCreateOptions): Promise<SandboxContainer> {
    const name = spec.name ?? 'sandbox';
    log.docker('[%s] creating container from %s', name, spec.Image);
    try {
      const container = await docker.createContainer(spec);
      log.docker('[%s] created %s', name, container.id);
      return new SandboxContainer(container, name);
    } catch (error) {
      if (dockerStatus(error) === 409) {
        throw new ContainerError(`A container named ${name} already exists`, {
          hint: `remove it with \`docker rm -f ${name}\``,
          cause: error,
        });
      }
      throw new ContainerError(`Could not create container ${name}: ${(error as Error).message}`, { cause: error });
    }
  }

  /** Attach, start, stream output line by line, and wait for the exit code. */
  async run(options: SandboxRunOptions): Promise<SandboxExit> {
    const { signal } = options;
    if (signal?.aborted) return { exitCode: -1, cancelled: true };
    const stream = await this.container.attach({ stream: true, stdout: true, stderr: true });
    // Raw lines are parsed (JSON events) before they are logged: they may be longer than a log line.
    const stdout = lineWriter(options.onStdout, { maxChars: LOG_LIMITS.rawLineChars });
    const stderr = lineWriter(options.onStderr, { maxChars: LOG_LIMITS.rawLineChars });
    this.container.modem.demuxStream(stream, stdout, stderr);
    const ended = once(stream, 'end').catch(() => undefined);

    let cancelled = false;
    const onAbort = () => {
      cancelled = true;
      void this.kill();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await this.container.start();
      log.docker('[%s] started', this.name);
      // A cancel that landed between attach and start would have found nothing to kill.
      if (signal?.aborted) onAbort();
      const exitCode = await this.exitAfterOutput(ended);
      stdout.end();
      stderr.end();
      return { exitCode, cancelled };
    } catch (error) {
      if (cancelled) return { exitCode: -1, cancelled };
      throw new ContainerError(`Container ${this.name} failed: ${(error as Error).message}`, { cause: error });
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /**
   * Run a container created with a TTY (`interactive`) on the user's terminal: its stdin, stdout and
   * window size are the terminal's (a hijacked attach, one raw stream: a TTY does not multiplex), until
   * the container exits. The terminal is entered after the attach and left however the run ends. A
   * hangup of the terminal stops the container like an exit (not cancelled).
   */
  async runInteractive(terminal: TerminalSession, options: SandboxTerminalOptions = {}): Promise<SandboxExit> {
    const { signal } = options;
    const { hangup } = terminal;
    if (signal?.aborted) return { exitCode: -1, cancelled: true };
    const stream = (await this.container.attach({ stream: true, stdin: true, stdout: true, stderr: true, hijack: true })) as Duplex;
    // A broken connection ends the session through `wait`; it must not crash the process.
    stream.on('error', (error: Error) => log.docker('[%s] terminal stream: %s', this.name, error.message));
    const ended = once(stream, 'end').catch(() => undefined);

    let cancelled = false;
    const onAbort = () => {
      cancelled = true;
      void this.kill().catch(() => undefined);
    };
    const onHangup = () => void this.kill().catch(() => undefined);
    const resize = () => void this.resize(terminal.size()).catch((error: unknown) => log.docker('[%s] resize: %s', this.name, (error as Error).message));
    signal?.addEventListener('abort', onAbort, { once: true });
    hangup?.addEventListener('abort', onHangup, { once: true });
    let stopResizing: () => void = () => undefined;
    try {
      stream.pipe(terminal.output, { end: false });
      terminal.enter();
      terminal.input.pipe(stream);
      await this.container.start();
      log.docker('[%s] started on a terminal', this.name);
      // A cancel or hangup that landed between attach and start would have found nothing to kill.
      if (signal?.aborted) onAbort();
      else if (hangup?.aborted) onHangup();
      stopResizing = terminal.onResize(resize);
      await this.firstResize(terminal.size());
      return { exitCode: await this.exitAfterOutput(ended), cancelled };
    } catch (error) {
      if (cancelled) return { exitCode: -1, cancelled };
      throw new ContainerError(`Container ${this.name} failed: ${(error as Error).message}`, { cause: error });
    } finally {
      stopResizing();
      signal?.removeEventListener('abort', onAbort);
      hangup?.removeEventListener('abort', onHangup);
      terminal.input.unpipe(stream);
      stream.unpipe(terminal.output);
      stream.destroy();
      terminal.leave();
    }
  }

  /** Wait for the container to exit, then (briefly) for its last output; returns the exit code. */
  private async exitAfterOutput(outputEnded: Promise<unknown>): Promise<number> {
    const result = (await this.container.wait()) as { StatusCode: number };
    await Promise.race([outputEnded, new Promise((resolve) => setTimeout(resolve, OUTPUT_DRAIN_MS).unref())]);
    log.docker('[%s] exited with %d', this.name, result.StatusCode);
    return result.StatusCode;
  }

  /** Set the container's TTY size; an empty size (no terminal to measure) is left alone. */
  private async resize(size: TerminalSize): Promise<void> {
    if (!(size.columns > 0 && size.rows > 0)) return;
    await this.container.resize({ h: size.rows, w: size.columns });
  }

  /** The first resize, retried: a container's TTY can answer a moment after `start` returns. */
  private async firstResize(size: TerminalSize): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.resize(size);
      } catch (error) {
        if (attempt >= FIRST_RESIZE_TRIES) return log.docker('[%s] resize: %s', this.name, (error as Error).message);
        await new Promise((resolve) => setTimeout(resolve, FIRST_RESIZE_DELAY_MS));
      }
    }
  }

  /** Kill the container now; already stopped or gone is fine. */
  async kill(): Promise<void> {
    try {
      await this.container.kill();
      log.docker('[%s] killed', this.name);
    } catch (error) {
      const status = dockerStatus(error);
      if (status === 304 || status === 404 || status === 409) return;
      throw new ContainerError(`Could not stop container ${this.name}: ${(error as Error).message}`, { cause: error });
    }
  }

  /** Remove the container (forcing a stop). Safe to call any number of times. */
  remove(): Promise<void> {
    this.removing ??= (async () => {
      try {
        await this.container.remove({ force: true, v: true });
        log.docker('[%s] removed', this.name);
      } catch (error) {
        const status = dockerStatus(error);
        // 404: already gone; 409: removal already in progress.
        if (status === 404 || status === 409) return;
        throw new ContainerError(`Could not remove container ${this.name}: ${(error as Error).message}`, { cause: error });
      }
    })();
    return this.removing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.remove();
  }
}
