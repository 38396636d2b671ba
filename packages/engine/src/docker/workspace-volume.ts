import type Dockerode from 'dockerode';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { writeFileAtomic } from '../common/atomic-file.js';
import { ContainerError } from '../errors/index.js';
import { log } from '../logging/logger.js';
import { LABEL_MANAGED, LABEL_TASK, LABEL_WORKER } from './container-spec.js';
import { dockerStatus } from './docker-client.js';

/** Marks a task's copy-on-write workspace volume (the reaper and `tsk clean` find leftovers by it). */
export const LABEL_ROLE_WORKSPACE = 'tsk.role=workspace';

/**
 * Overlay options. `userxattr`: overlay's own marks (opaque directories) are `user.overlay.*` attributes
 * tsk can read without privileges. `redirect_dir=nofollow` and `metacopy=off`: a renamed directory or a
 * changed mode is a full copy in the upper directory, never a pointer back into the base, so the upper
 * directory alone says what changed. `index=off`: no hard-link bookkeeping in the work directory.
 */
const OVERLAY_FLAGS = 'userxattr,redirect_dir=nofollow,metacopy=off,index=off';

/** The folders of one task's layer: what the agent writes lands in `upper`. */
export interface LayerDirs {
  lower: string;
  upper: string;
  work: string;
}

/** Volume name of a task's workspace: `tsk-ws-<id>`. */
export function workspaceVolumeName(taskId: string): string {
  return `tsk-ws-${taskId}`;
}

/** Why these folders cannot be an overlay mount's options (the option string has no escaping). */
export function overlayPathProblem(dirs: LayerDirs): string | undefined {
  for (const path of [dirs.lower, dirs.upper, dirs.work]) {
    if (!path.startsWith('/') || /[,:\\\s=]/.test(path)) return `the path ${JSON.stringify(path)} cannot be given to an overlay mount`;
  }
  return undefined;
}

/** Docker's options for an overlay-backed local volume over `dirs` (pure). */
export function workspaceVolumeSpec(name: string, dirs: LayerDirs, labels: Record<string, string>): Dockerode.VolumeCreateOptions {
  return {
    Name: name,
    Driver: 'local',
    DriverOpts: { type: 'overlay', device: 'overlay', o: `lowerdir=${dirs.lower},upperdir=${dirs.upper},workdir=${dirs.work},${OVERLAY_FLAGS}` },
    Labels: { ...labels, [LABEL_MANAGED]: 'true', 'tsk.role': 'workspace' },
  };
}

/**
 * A task's copy-on-write workspace: a Docker volume whose mount (made by the engine when the container
 * starts: tsk itself needs no privilege) is an overlay of the shared base and the task's own layer.
 * `remove()` is idempotent and also runs on `await using` disposal.
 */
export class WorkspaceVolume implements AsyncDisposable {
  private removing: Promise<void> | undefined;

  private constructor(
    private readonly docker: Dockerode,
    readonly name: string,
  ) {}

  static async create(docker: Dockerode, options: { taskId: string; workerName: string; dirs: LayerDirs }): Promise<WorkspaceVolume> {
    const name = workspaceVolumeName(options.taskId);
    const problem = overlayPathProblem(options.dirs);
    if (problem !== undefined) throw new ContainerError(`Could not create workspace volume ${name}: ${problem}`);
    try {
      await docker.createVolume(workspaceVolumeSpec(name, options.dirs, { [LABEL_TASK]: options.taskId, [LABEL_WORKER]: options.workerName }));
    } catch (error) {
      throw new ContainerError(`Could not create workspace volume ${name}: ${(error as Error).message}`, { cause: error });
    }
    return new WorkspaceVolume(docker, name);
  }

  remove(): Promise<void> {
    this.removing ??= removeVolume(this.docker, this.name);
    return this.removing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.remove();
  }
}

async function removeVolume(docker: Dockerode, name: string): Promise<void> {
  try {
    await docker.getVolume(name).remove({ force: true });
  } catch (error) {
    if (dockerStatus(error) === 404) return;
    log.docker('could not remove volume %s: %O', name, error);
    throw error;
  }
}

/**
 * Remove the workspace volumes matching `labels` (a task's, a worker's, or all of tsk's) that `which` picks;
 * returns how many. One a container still uses stays (the engine refuses).
 */
export async function removeWorkspaceVolumes(docker: Dockerode, labels: string[] = [], which: (labels: Record<string, string>) => boolean = () => true): Promise<number> {
  const listed = await docker.listVolumes({ filters: { label: [`${LABEL_MANAGED}=true`, LABEL_ROLE_WORKSPACE, ...labels] } });
  let removed = 0;
  for (const volume of listed.Volumes ?? []) {
    if (!which(volume.Labels ?? {})) continue;
    await removeVolume(docker, volume.Name).then(
      () => removed++,
      () => undefined, // still in use by a container someone else removes
    );
  }
  return removed;
}

/**
 * {@link overlayVolumeProblem}, remembered per engine (its `docker info` ID) under `scratchParent` once the
 * probe succeeded: the probe is a whole container's life, which every `tsk run` process would otherwise
 * pay before its task's own. A failed probe is not remembered: it is asked again by the next process.
 */
export async function rememberedOverlayVolumeProblem(docker: Dockerode, image: string, scratchParent: string, user: string): Promise<string | undefined> {
  const { ID } = (await docker.info()) as { ID?: string };
  const marker = ID ? join(scratchParent, `.overlay-ok-${createHash('sha256').update(`${ID}\0${user}`).digest('hex').slice(0, 16)}`) : undefined;
  if (marker !== undefined && existsSync(marker)) return undefined;
  const problem = await overlayVolumeProblem(docker, image, scratchParent, user);
  if (problem === undefined && marker !== undefined) await writeFileAtomic(marker, `${ID}\n`).catch(() => undefined);
  return problem;
}

/**
 * Whether this engine can mount a tsk overlay volume over folders of this machine: it cannot when it runs
 * elsewhere (a VM, a remote host: the folders are not there) or without the privilege to mount (rootless).
 * Tried once with a throwaway layer under `scratchParent` and `image` (any image with `/bin/sh`). Returns
 * why not, or undefined when it works.
 */
export async function overlayVolumeProblem(docker: Dockerode, image: string, scratchParent: string, user: string): Promise<string | undefined> {
  await mkdir(scratchParent, { recursive: true, mode: 0o700 });
  const root = await mkdtemp(join(scratchParent, 'cow-probe-'));
  const dirs = { lower: join(root, 'lower'), upper: join(root, 'upper'), work: join(root, 'work') };
  const problem = overlayPathProblem(dirs);
  if (problem !== undefined) {
    await rm(root, { recursive: true, force: true });
    return problem;
  }
  const name = `tsk-ws-probe-${process.pid}-${Date.now()}`;
  let container: Dockerode.Container | undefined;
  try {
    await Promise.all(Object.values(dirs).map((dir) => mkdir(dir, { mode: 0o755 })));
    await writeFile(join(dirs.lower, 'probe'), 'tsk\n');
    await docker.createVolume(workspaceVolumeSpec(name, dirs, {}));
    container = await docker.createContainer({
      Image: image,
      Entrypoint: ['/bin/sh'],
      Cmd: ['-c', 'cat /w/probe'],
      User: user,
      Labels: { [LABEL_MANAGED]: 'true' },
      HostConfig: { Mounts: [{ Type: 'volume', Source: name, Target: '/w' }], NetworkMode: 'none', LogConfig: { Type: 'none', Config: {} } },
    });
    await container.start();
    const { StatusCode } = (await container.wait()) as { StatusCode: number };
    return StatusCode === 0 ? undefined : `a probe container could not read its overlay volume (exit ${StatusCode})`;
  } catch (error) {
    return firstLine((error as Error).message);
  } finally {
    await container?.remove({ force: true }).catch(() => undefined);
    await docker.getVolume(name).remove({ force: true }).catch(() => undefined);
    await rm(root, { recursive: true, force: true }).catch(() => undefined);
  }
}

function firstLine(text: string): string {
  return (text.split('\n')[0] ?? text).replace(/^\(HTTP code \d+\)[^-]*- /, '').slice(0, 300);
}

/**
 * Remove `dir` with the engine's help: an overlay's work folder holds a folder the kernel made as root
 * (mode 000), which a tsk that is not root cannot remove itself. A throwaway container of `image`, as root,
 * with only `dir`'s parent mounted, removes it.
 */
export async function removeAsRoot(docker: Dockerode, image: string, dir: string): Promise<void> {
  const container = await docker.createContainer({
    Image: image,
    User: '0:0',
    Entrypoint: ['rm'],
    Cmd: ['-rf', '--', `/parent/${basename(dir)}`],
    Labels: { [LABEL_MANAGED]: 'true' },
    HostConfig: { Mounts: [{ Type: 'bind', Source: dirname(dir), Target: '/parent' }], NetworkMode: 'none', LogConfig: { Type: 'none', Config: {} } },
  });
  try {
    await container.start();
    await container.wait();
  } finally {
    await container.remove({ force: true }).catch(() => undefined);
  }
}
