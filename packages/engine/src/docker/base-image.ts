import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import type Dockerode from 'dockerode';
import { runProcess } from '../common/index.js';
import { ImageBuildError } from '../errors/index.js';
import { log, type LogSink } from '../logging/index.js';
import { readProgressStream } from './build-stream.js';
import { dockerStatus } from './docker-client.js';
import { toTskError } from './image-builder.js';

export interface BootstrapBaseImageOptions {
  /** Tag of the image to create, e.g. `debian:bookworm-slim`. */
  tag: string;
  /** @defaultValue 'bookworm' */
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

/**
 * Make sure the base image exists: nothing to do when it is present; otherwise pull it, and when no
 * registry answers (air-gapped hosts, no Docker Hub), build it from a Debian mirror with debootstrap.
 */
export async function ensureBaseImage(options: EnsureBaseImageOptions): Promise<{ tag: string; origin: BaseImageOrigin; id: string }> {
  const origin = await obtainBaseImage(options);
  const id = await imageId(options.docker, options.tag);
  if (id === undefined) throw new ImageBuildError(options.tag, `Base image ${options.tag} is still missing after it was ${origin}`);
  return { tag: options.tag, origin, id };
}

async function obtainBaseImage(options: EnsureBaseImageOptions): Promise<BaseImageOrigin> {
  const { tag, docker } = options;
  if ((await imageId(docker, tag)) !== undefined) return 'present';
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
      hint: 'load it with `docker load`, or set base_image to debian:bookworm-slim',
    });
  }
  await bootstrapBaseImage({ ...options, suite });
  return 'bootstrapped';
}

/**
 * Build a base image without a registry: `debootstrap --variant=minbase` into a temporary directory, then
 * import that root filesystem as `tag`. Needs root and debootstrap. The temporary directory is always
 * removed, after unmounting anything debootstrap left mounted in it.
 */
export async function bootstrapBaseImage(options: BootstrapBaseImageOptions): Promise<void> {
  const { tag, docker, signal } = options;
  const suite = options.suite ?? 'bookworm';
  const mirror = options.mirror ?? 'http://deb.debian.org/debian';
  if (process.getuid?.() !== 0) {
    throw new ImageBuildError(tag, `Bootstrapping ${tag} with debootstrap needs root`, {}, {
      hint: 'run `sudo tsk docker bootstrap`, or load a base image with `docker load`',
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
    const result = await runProcess(debootstrap, ['--variant=minbase', suite, rootfs, mirror], {
      signal,
      onLine: (line) => {
        options.log.write('build', line);
        recent.push(line);
        if (recent.length > 20) recent.shift();
      },
    });
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

/** `debian:bookworm-slim` → `bookworm`; undefined for anything that is not a Debian image. */
export function debianSuiteOf(tag: string): string | undefined {
  return /^(?:docker\.io\/)?(?:library\/)?debian:([a-z]+)(?:-slim)?$/.exec(tag)?.[1];
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
