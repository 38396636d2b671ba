import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type Dockerode from 'dockerode';
import tar from 'tar-fs';
import { DockerUnavailableError, ImageBuildError } from '../errors/index.js';
import { log, type LogSink } from '../logging/index.js';
import { acquireBuildLock } from './build-lock.js';
import { readProgressStream } from './build-stream.js';
import type { ImagePlan } from './dockerfile-composer.js';
import { TSK_CONTEXT_DIR } from './project-copy.js';
import { dockerStatus } from './docker-client.js';

/** Label on every image tsk builds, so `tsk clean` can find them (same key as the sandboxes' label). */
const MANAGED_LABEL = 'tsk.managed';
/** The Dockerfile sits in tsk's own folder, so a project file named `Dockerfile` can be copied too. */
const DOCKERFILE = `${TSK_CONTEXT_DIR}/Dockerfile`;

export interface ImageBuilderOptions {
  /** Where cross-process build locks live: the user's lock folder (see `ensureDockerLockDir`); created when missing. */
  lockDir: string;
  /** How often a build waiting for another process's build of the same tag looks again. @defaultValue 500 */
  lockPollMs?: number;
}

/** Where a build's RUN steps run and the build arguments that point them at a proxy. */
export interface BuildNetwork {
  networkMode: string;
  args: Record<string, string>;
}

/** Memory and CPUs a build (or a sandbox) may use. */
export interface BuildLimits {
  memoryBytes: number;
  cpus: number;
}

/** A task's limits: its `memory_gb`, and its `cpu` clamped to what the engine has. */
export function taskLimits(config: { memoryGb: number; cpu: number }, engineCpus: number): BuildLimits {
  return { memoryBytes: Math.round(config.memoryGb * 1024 ** 3), cpus: Math.min(config.cpu, engineCpus) };
}

export interface EnsureImageOptions {
  /** Build even if the image exists, without Docker's layer cache. */
  noCache?: boolean;
  /** Build even if the image exists (Docker's layer cache still applies). */
  force?: boolean;
  /** Receives build output as `build` lines and waiting notices as `tsk` lines. */
  log: LogSink;
  signal?: AbortSignal;
  /**
   * The network RUN steps get. Proxy variables are Docker's predefined build arguments: they reach RUN
   * steps without an ARG line and never enter the image or its cache key.
   * @defaultValue Docker's default bridge (only for tsk's own images: the proxy's, Redis's)
   */
  network?: BuildNetwork;
  /** Memory and CPU limits of the RUN steps. @defaultValue none */
  limits?: BuildLimits;
}

export interface EnsureImageResult {
  tag: string;
  /** Whether this call ran a build; false when the image existed or a concurrent build made it. */
  built: boolean;
}

/**
 * Makes sure a plan's image exists, building it when needed. Builds of one tag never run twice at once:
 * calls in this process queue behind each other, and other processes are kept out by a lock file. Whoever
 * waited re-checks for the image afterwards and does not rebuild what the other build just made (even
 * with `force`/`noCache`: that build was fresh).
 *
 * The plan's base image must already be present (see `ensureBaseImage`); otherwise the classic builder
 * tries to pull it.
 */
export class ImageBuilder {
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly lockDir: string;
  private readonly lockPollMs: number;

  constructor(
    private readonly docker: Dockerode,
    options: ImageBuilderOptions,
  ) {
    this.lockDir = options.lockDir;
    this.lockPollMs = options.lockPollMs ?? 500;
  }

  async ensureImage(plan: ImagePlan, options: EnsureImageOptions): Promise<EnsureImageResult> {
    const rebuild = options.force === true || options.noCache === true;
    if (!rebuild && !this.inFlight.has(plan.tag) && (await this.imageExists(plan.tag))) {
      log.docker('[%s] image exists', plan.tag);
      return { tag: plan.tag, built: false };
    }
    const previous = this.inFlight.get(plan.tag);
    const run = (async () => {
      if (previous) {
        options.log.write('tsk', `Waiting for the build of ${plan.tag} already running…`);
        await untilSettledOrAborted(previous, options.signal);
      }
      return this.ensureLocked(plan, options, rebuild, previous !== undefined);
    })();
    // The queue entry never rejects: a failed build must not fail the calls queued behind it.
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.inFlight.set(plan.tag, settled);
    void settled.then(() => {
      if (this.inFlight.get(plan.tag) === settled) this.inFlight.delete(plan.tag);
    });
    return run;
  }

  /** Whether an image with this tag exists in the engine. */
  async imageExists(tag: string): Promise<boolean> {
    try {
      await this.docker.getImage(tag).inspect();
      return true;
    } catch (error) {
      if (dockerStatus(error) === 404) return false;
      throw toTskError(error, tag, 'inspect');
    }
  }

  private async ensureLocked(
    plan: ImagePlan,
    options: EnsureImageOptions,
    rebuild: boolean,
    waitedInProcess: boolean,
  ): Promise<EnsureImageResult> {
    const lock = await acquireBuildLock(join(this.lockDir, lockFileName(plan.tag)), {
      signal: options.signal,
      pollMs: this.lockPollMs,
      onWait: (holder) =>
        options.log.write('tsk', `Waiting for the build of ${plan.tag} in process ${holder?.pid ?? '?'}…`),
    });
    try {
      const waited = waitedInProcess || lock.waited;
      if ((!rebuild || waited) && (await this.imageExists(plan.tag))) {
        log.docker('[%s] image exists after waiting for the lock', plan.tag);
        return { tag: plan.tag, built: false };
      }
      await this.build(plan, options);
      return { tag: plan.tag, built: true };
    } finally {
      await lock.release();
    }
  }

  private async build(plan: ImagePlan, options: EnsureImageOptions): Promise<void> {
    const started = Date.now();
    options.log.write('tsk', `Building image ${plan.tag}`);
    log.docker('[%s] build start (noCache=%s)', plan.tag, options.noCache === true);
    const contextDir = await mkdtemp(join(tmpdir(), 'tsk-build-'));
    try {
      await writeContext(contextDir, plan);
      const context = tar.pack(contextDir, {
        // Fixed metadata: the context's bytes depend only on the plan, never on when it was written.
        map: (header) => ({ ...header, mtime: new Date(0), uid: 0, gid: 0 }),
        dmode: 0o755,
        fmode: 0o644,
      });
      let stream: NodeJS.ReadableStream;
      try {
        stream = await this.docker.buildImage(context, {
          t: plan.tag,
          dockerfile: DOCKERFILE,
          buildargs: { ...plan.buildArgs, ...options.network?.args },
          ...(options.network ? { networkmode: options.network.networkMode } : {}),
          ...(options.limits
            ? {
                memory: options.limits.memoryBytes,
                memswap: options.limits.memoryBytes,
                cpuperiod: 100_000,
                cpuquota: Math.max(1000, Math.round(options.limits.cpus * 100_000)),
              }
            : {}),
          labels: { ...plan.labels, [MANAGED_LABEL]: 'true' },
          nocache: options.noCache === true,
          rm: true,
          forcerm: true,
          abortSignal: options.signal,
        });
      } catch (error) {
        throw toTskError(error, plan.tag, 'build');
      }
      const outcome = await readProgressStream(stream, options.log).catch((error: unknown) => {
        options.signal?.throwIfAborted();
        throw new ImageBuildError(plan.tag, `Image build ${plan.tag} was interrupted: ${messageOf(error)}`, {}, { cause: error });
      });
      if (outcome.error !== undefined) {
        const where = outcome.step ? ` at "${outcome.step}"` : '';
        throw new ImageBuildError(
          plan.tag,
          `Image build ${plan.tag} failed${where}: ${outcome.error}`,
          { step: outcome.step, output: outcome.output.join('\n') },
          { hint: 'fix the failing Dockerfile lines; `tsk docker build --dry-run` shows where each layer comes from' },
        );
      }
      if (!(await this.imageExists(plan.tag))) {
        throw new ImageBuildError(plan.tag, `Image build ${plan.tag} ended without producing the image`, {
          step: outcome.step,
          output: outcome.output.join('\n'),
        });
      }
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      log.docker('[%s] built in %ss', plan.tag, seconds);
      options.log.write('tsk', `Built image ${plan.tag} in ${seconds}s`);
    } finally {
      await rm(contextDir, { recursive: true, force: true });
    }
  }
}

/** Wait for `promise` (which never rejects), but give up as soon as `signal` aborts. */
function untilSettledOrAborted(promise: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return promise;
  signal.throwIfAborted();
  return new Promise((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    void promise.then(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    });
  });
}

async function writeContext(dir: string, plan: ImagePlan): Promise<void> {
  await mkdir(join(dir, TSK_CONTEXT_DIR), { recursive: true });
  await writeFile(join(dir, DOCKERFILE), plan.dockerfile);
  for (const file of plan.contextFiles) {
    const path = join(dir, file.name);
    if (!path.startsWith(`${dir}/`) || file.name === DOCKERFILE) {
      throw new Error(`Invalid build context file name "${file.name}"`);
    }
    await mkdir(dirname(path), { recursive: true });
    // tar-fs keeps the executable bits of the files it packs.
    await writeFile(path, file.content, { mode: file.mode ?? 0o644 });
  }
}

/** `tsk/proj/node/claude:abc…` → `tsk_proj_node_claude_abc….lock` */
function lockFileName(tag: string): string {
  return `${tag.replace(/[^A-Za-z0-9._-]/g, '_')}.lock`;
}

const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ENOENT', 'EACCES', 'EHOSTUNREACH', 'ETIMEDOUT']);

/** Socket-level failures mean no engine; anything else the engine said is a build failure. */
export function toTskError(error: unknown, tag: string, action: string): Error {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && UNAVAILABLE_CODES.has(code)) {
    return new DockerUnavailableError(`No Docker engine answers (${messageOf(error)})`, {
      hint: 'start Docker, or check DOCKER_HOST',
      cause: error,
    });
  }
  if (error instanceof Error && error.name === 'AbortError') return error;
  return new ImageBuildError(tag, `Docker image ${action} of ${tag} failed: ${messageOf(error)}`, {}, { cause: error });
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
