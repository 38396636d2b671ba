import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import type Dockerode from 'dockerode';
import { runProcess } from '../common/index.js';
import { ImageBuildError, InputError } from '../errors/index.js';
import { log, type LogSink } from '../logging/index.js';
import { IMAGE_REF } from '../model/validate-task-spec.js';
import { readProgressStream } from './build-stream.js';
import { debootstrapProgress } from './debootstrap-progress.js';
import { dockerStatus } from './docker-client.js';
import { toTskError } from './image-builder.js';
import { debianSuiteOf } from './stack-toolchains.js';

export { debianSuiteOf } from './stack-toolchains.js';

/**
 * tsk's default base image (config `base_image`, whose schema default must match): Debian's current
 * stable, so that every built-in stack brings toolchains that build projects written this year.
 */
export const DEFAULT_BASE_IMAGE = 'debian:trixie-slim';

/** Earlier defaults, newest first: a machine holding one of them but not the default is upgrading. */
export const EARLIER_DEFAULT_BASE_IMAGES: readonly string[] = ['debian:bookworm-slim'];

export interface BootstrapBaseImageOptions {
  /** Tag of the image to create, e.g. `debian:trixie-slim`. */
  tag: string;
  /** Debian suite. @defaultValue the suite named by `tag` (see {@link debianSuiteOf}) */
  suite?: string;
  /** @defaultValue 'http://deb.debian.org/debian' */
  mirror?: string;
  log: LogSink;
  docker: Dockerode;
  signal?: AbortSignal;
  /** The debootstrap program: a name looked up in PATH, /usr/sbin and /sbin, or a path. @defaultValue 'debootstrap' */
  debootstrap?: string;
  /** Where the temporary root filesystem goes (needs ~250 MB, must allow device files). @defaultValue os.tmpdir() */
  workDir?: string;
}

export interface EnsureBaseImageOptions extends Omit<BootstrapBaseImageOptions, 'suite'> {
  /** Debian suite to bootstrap when the image cannot be pulled; derived from `debian:<suite>[-slim]` tags. */
  suite?: string;
  /** Try the registry first. @defaultValue true */
  pull?: boolean;
  /** Give up on the registry after this long without a progress message. @defaultValue 15_000 */
  pullIdleTimeoutMs?: number;
}

/** Where the base image came from: it was `present`, `pulled` from a registry, or `bootstrapped` here. */
export type BaseImageOrigin = 'present' | 'pulled' | 'bootstrapped';

export interface EnsuredBaseImage {
  tag: string;
  origin: BaseImageOrigin;
  id: string;
}

/** One pull or bootstrap of a base image under way in this process; `fetching` once it was found missing. */
interface Attempt {
  origin: Promise<BaseImageOrigin>;
  signal: AbortSignal | undefined;
  fetching: boolean;
}

/** Base images being obtained by this process, per engine: concurrent first needs share one attempt. */
const attempts = new WeakMap<Dockerode, Map<string, Attempt>>();

/**
 * Make sure the base image exists: nothing to do when it is present; otherwise pull it, and when no
 * registry answers (air-gapped hosts, no Docker Hub), build it from a Debian mirror with debootstrap.
 * Calls for the same tag in one process wait for the attempt under way (a worker starting several tasks,
 * the proxy and the sandbox image of one task), so it is fetched, and announced, once; when whoever
 * started it gives up (its task was cancelled), the next caller tries itself.
 */
export async function ensureBaseImage(options: EnsureBaseImageOptions): Promise<EnsuredBaseImage> {
  const { docker, tag } = options;
  const origin = await sharedAttempt(options);
  const id = await imageId(docker, tag);
  if (id === undefined) throw new ImageBuildError(tag, `Base image ${tag} is still missing after it was ${origin}`);
  return { tag, origin, id };
}

async function sharedAttempt(options: EnsureBaseImageOptions): Promise<BaseImageOrigin> {
  const { docker, tag, signal } = options;
  let perEngine = attempts.get(docker);
  if (perEngine === undefined) attempts.set(docker, (perEngine = new Map()));
  for (;;) {
    const current = perEngine.get(tag);
    if (current === undefined) {
      const ours: Attempt = {
        signal,
        fetching: false,
        origin: obtainBaseImage(options, () => (ours.fetching = true)).finally(() => {
          if (perEngine.get(tag) === ours) perEngine.delete(tag);
        }),
      };
      perEngine.set(tag, ours);
      return ours.origin;
    }
    if (current.fetching) options.log.write('tsk', `Waiting for base image ${tag}, which this process is already getting…`);
    try {
      return await untilSettled(current.origin, signal);
    } catch (error) {
      signal?.throwIfAborted();
      // Only a caller that gave up hands over: any other failure is ours too.
      if (!current.signal?.aborted) throw error;
    }
  }
}

/** `promise`, or the abort of `signal` if that comes first. */
function untilSettled<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  signal.throwIfAborted();
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    void promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

async function obtainBaseImage(options: EnsureBaseImageOptions, onMissing: () => void): Promise<BaseImageOrigin> {
  const { tag, docker } = options;
  if ((await imageId(docker, tag)) !== undefined) return 'present';
  onMissing();
  await announceUpgrade(options);
  if (options.pull !== false) {
    options.log.write('tsk', `Pulling base image ${tag}`);
    try {
      await pullImage(docker, tag, options.log, options.pullIdleTimeoutMs ?? 15_000, options.signal);
      return 'pulled';
    } catch (error) {
      options.signal?.throwIfAborted();
      options.log.write('warn', `Cannot pull ${tag} (${messageOf(error)}); building it with debootstrap instead`);
    }
  }
  const suite = options.suite ?? debianSuiteOf(tag);
  if (suite === undefined) {
    throw new ImageBuildError(tag, `Base image ${tag} is not present, cannot be pulled, and is not a debian:<suite> image tsk can bootstrap`, {}, {
      hint: `load it with \`docker load\`, or set base_image to ${DEFAULT_BASE_IMAGE}`,
    });
  }
  await bootstrapBaseImage({ ...options, suite });
  return 'bootstrapped';
}

/**
 * A machine that has only an earlier default base image is meeting the new default for the first time:
 * say so in one line, so that fetching it and rebuilding images on it is no surprise. The first need is
 * often the proxy's (it always runs on the default), so the line is true also for a user who set
 * `base_image` to the earlier image: their sandboxes stay on it.
 */
async function announceUpgrade(options: EnsureBaseImageOptions): Promise<void> {
  if (options.tag !== DEFAULT_BASE_IMAGE) return;
  for (const earlier of EARLIER_DEFAULT_BASE_IMAGES) {
    if ((await imageId(options.docker, earlier)) === undefined) continue;
    options.log.write('tsk', upgradeNotice(earlier));
    return;
  }
}

/** The one line {@link ensureBaseImage} writes when a machine moves from `earlier` to the default base image. */
export function upgradeNotice(earlier: string): string {
  return (
    `tsk's default base image is now ${DEFAULT_BASE_IMAGE} (current toolchains) and this machine has only ${earlier}: ` +
    `getting it once; the proxy, and sandboxes unless base_image names another image, are rebuilt on it as they are needed ` +
    `(base_image = "${earlier}" in your tsk.toml keeps sandboxes on ${earlier})`
  );
}

/** A Debian suite or codename as debootstrap takes it (trixie, bookworm-backports, stable). */
const DEBIAN_SUITE = /^[a-z][a-z0-9-]{0,31}$/;

/**
 * Check what a user asks `tsk docker bootstrap` for before anything runs: the suite and the mirror go on
 * debootstrap's command line (run as root), the tag to Docker. Throws an {@link InputError} naming the flag.
 */
export function checkBootstrapOptions(options: { tag: string; suite?: string; mirror?: string }): void {
  const shown = (value: string) => JSON.stringify(value.slice(0, 80));
  if (options.tag.length > 255 || !IMAGE_REF.test(options.tag)) {
    throw new InputError(`--image: expected an image name such as debian:trixie-slim, got ${shown(options.tag)}`);
  }
  if (options.suite !== undefined && !DEBIAN_SUITE.test(options.suite)) {
    throw new InputError(`--suite: expected a Debian suite such as trixie, got ${shown(options.suite)}`);
  }
  if (options.mirror !== undefined) {
    let url: URL | undefined;
    try {
      url = options.mirror.length <= 2048 && !/[\s\u0000-\u001f]/.test(options.mirror) ? new URL(options.mirror) : undefined;
    } catch {
      url = undefined;
    }
    if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
      throw new InputError(`--mirror: expected an http:// or https:// URL of a Debian mirror, got ${shown(options.mirror)}`);
    }
  }
}

/**
 * Build a base image without a registry: `debootstrap --variant=minbase` into a temporary directory, then
 * import that root filesystem as `tag`. Needs root and debootstrap. The temporary directory is always
 * removed, after unmounting anything debootstrap left mounted in it.
 */
export async function bootstrapBaseImage(options: BootstrapBaseImageOptions): Promise<void> {
  const { tag, docker, signal } = options;
  const suite = options.suite ?? debianSuiteOf(tag);
  const mirror = options.mirror ?? 'http://deb.debian.org/debian';
  checkBootstrapOptions({ tag, suite, mirror });
  if (suite === undefined) {
    throw new ImageBuildError(tag, `Cannot tell which Debian suite to bootstrap as ${tag}`, {}, {
      hint: 'name one with --suite, or bootstrap a debian:<suite>[-slim] tag',
    });
  }
  if (process.getuid?.() !== 0) {
    throw new ImageBuildError(tag, `Bootstrapping ${tag} with debootstrap needs root`, {}, {
      hint: `run \`sudo tsk docker bootstrap --image ${tag}\`, or load the image with \`docker load\``,
    });
  }
  const debootstrap = await findProgram(options.debootstrap ?? 'debootstrap');
  if (debootstrap === undefined) {
    throw new ImageBuildError(tag, `Cannot bootstrap ${tag}: ${options.debootstrap ?? 'debootstrap'} is not installed`, {}, {
      hint: 'install it with `apt-get install debootstrap`',
    });
  }

  const workDir = await mkdtemp(join(options.workDir ?? tmpdir(), 'tsk-rootfs-'));
  const rootfs = join(workDir, 'rootfs');
  const started = Date.now();
  try {
    options.log.write('tsk', `Bootstrapping ${tag} from ${mirror} (${suite}, minbase)`);
    const recent: string[] = [];
    // debootstrap says four lines per package (~400 in all): the log gets a line per phase and a count
    // now and then; the last lines in full go into the error when it fails.
    const progress = debootstrapProgress();
    const result = await runProcess(debootstrap, ['--variant=minbase', suite, rootfs, mirror], {
      signal,
      onLine: (line) => {
        log.docker('debootstrap: %s', line);
        for (const shown of progress.push(line)) options.log.write('build', shown);
        recent.push(line);
        if (recent.length > 20) recent.shift();
      },
    });
    for (const shown of progress.end()) options.log.write('build', shown);
    if (result.exitCode !== 0) {
      throw new ImageBuildError(tag, `debootstrap ${suite} failed with exit code ${result.exitCode ?? result.signal}`, {
        step: `debootstrap --variant=minbase ${suite}`,
        output: recent.join('\n'),
      });
    }
    options.log.write('tsk', `Importing ${rootfs} as ${tag}`);
    await importRootfs(docker, rootfs, tag, options.log, signal);
    options.log.write('tsk', `Bootstrapped ${tag} in ${((Date.now() - started) / 1000).toFixed(0)}s`);
  } finally {
    const stillMounted = await unmountUnder(workDir);
    if (stillMounted.length === 0) await rm(workDir, { recursive: true, force: true });
    else options.log.write('warn', `Left ${workDir} in place: ${stillMounted.join(', ')} could not be unmounted`);
  }
}

async function importRootfs(docker: Dockerode, rootfs: string, tag: string, sink: LogSink, signal?: AbortSignal): Promise<void> {
  const { repo, version } = splitTag(tag);
  const tarProcess = spawn('tar', ['--numeric-owner', '-C', rootfs, '-cf', '-', '.'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    signal,
  });
  const tarErrors: string[] = [];
  tarProcess.stderr.on('data', (chunk: Buffer) => tarErrors.push(chunk.toString()));
  const tarExit = new Promise<number | null>((resolve, reject) => {
    tarProcess.on('error', reject);
    tarProcess.on('close', resolve);
  });
  try {
    let stream: NodeJS.ReadableStream;
    try {
      stream = await docker.importImage(tarProcess.stdout, { repo, tag: version, abortSignal: signal });
    } catch (error) {
      throw toTskError(error, tag, 'import');
    }
    const outcome = await readProgressStream(stream, sink);
    const exitCode = await tarExit;
    if (exitCode !== 0) {
      throw new ImageBuildError(tag, `tar of the bootstrapped root filesystem failed (exit ${exitCode})`, {
        output: tarErrors.join('').trim(),
      });
    }
    if (outcome.error !== undefined) {
      throw new ImageBuildError(tag, `docker import of ${tag} failed: ${outcome.error}`, { output: outcome.output.join('\n') });
    }
  } finally {
    if (tarProcess.exitCode === null) tarProcess.kill();
  }
}

async function pullImage(docker: Dockerode, tag: string, sink: LogSink, idleTimeoutMs: number, signal?: AbortSignal): Promise<void> {
  const idle = new AbortController();
  let timer = setTimeout(() => idle.abort(new Error(`no answer from the registry in ${idleTimeoutMs}ms`)), idleTimeoutMs);
  const abortSignal = signal ? AbortSignal.any([signal, idle.signal]) : idle.signal;
  // Every progress message proves the registry is alive and restarts the idle timer.
  const keepAlive: LogSink = {
    write: (source, line) => {
      clearTimeout(timer);
      timer = setTimeout(() => idle.abort(new Error(`registry went quiet for ${idleTimeoutMs}ms`)), idleTimeoutMs);
      sink.write(source, line);
    },
  };
  try {
    const stream = await docker.pull(tag, { abortSignal });
    const outcome = await readProgressStream(stream, keepAlive);
    if (outcome.error !== undefined) throw new Error(outcome.error);
  } catch (error) {
    if (idle.signal.aborted) throw idle.signal.reason;
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/** The engine's id of an image, or undefined when it is not present. */
export async function imageId(docker: Dockerode, tag: string): Promise<string | undefined> {
  try {
    return (await docker.getImage(tag).inspect()).Id;
  } catch (error) {
    if (dockerStatus(error) === 404) return undefined;
    throw toTskError(error, tag, 'inspect');
  }
}

/** `localhost:5000/debian:bookworm` → repo `localhost:5000/debian`, version `bookworm`. */
function splitTag(tag: string): { repo: string; version: string } {
  const colon = tag.lastIndexOf(':');
  if (colon > tag.lastIndexOf('/')) return { repo: tag.slice(0, colon), version: tag.slice(colon + 1) };
  return { repo: tag, version: 'latest' };
}

async function findProgram(name: string): Promise<string | undefined> {
  const candidates = name.includes('/')
    ? [name]
    : [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), '/usr/sbin', '/sbin'].map((dir) => join(dir, name));
  for (const candidate of candidates) {
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; try the next directory
    }
  }
  return undefined;
}

/**
 * debootstrap mounts /proc (and sometimes /sys, /dev/pts) inside the target; an interrupted run can leave
 * them mounted, and `rm -r` must never descend into the host's /proc. Unmount deepest first.
 */
async function unmountUnder(dir: string): Promise<string[]> {
  for (const target of await mountsUnder(dir)) {
    const result = await runProcess('umount', ['-l', target]);
    if (result.exitCode !== 0) log.docker('umount %s failed: %s', target, result.stderr.trim());
  }
  return mountsUnder(dir);
}

/** Mount points below `dir`, deepest first. */
async function mountsUnder(dir: string): Promise<string[]> {
  const mounts = await readFile('/proc/self/mounts', 'utf8');
  return mounts
    .split('\n')
    .map((line) => line.split(' ')[1]?.replace(/\\040/g, ' '))
    .filter((target): target is string => target !== undefined && target.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
