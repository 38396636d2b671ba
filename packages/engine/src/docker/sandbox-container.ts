import type Dockerode from 'dockerode';
import { once } from 'node:events';
import { lineWriter } from '../common/line-writer.js';
import { ContainerError } from '../errors/index.js';
import { LOG_LIMITS } from '../logging/log-limits.js';
import { log } from '../logging/logger.js';
import { dockerStatus } from './docker-client.js';

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

/** How long to wait for the last output to drain after the container has exited. */
const OUTPUT_DRAIN_MS = 2000;

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
      const result = (await this.container.wait()) as { StatusCode: number };
      await Promise.race([ended, new Promise((resolve) => setTimeout(resolve, OUTPUT_DRAIN_MS).unref())]);
      stdout.end();
      stderr.end();
      log.docker('[%s] exited with %d', this.name, result.StatusCode);
      return { exitCode: result.StatusCode, cancelled };
    } catch (error) {
      if (cancelled) return { exitCode: -1, cancelled };
      throw new ContainerError(`Container ${this.name} failed: ${(error as Error).message}`, { cause: error });
    } finally {
      signal?.removeEventListener('abort', onAbort);
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
