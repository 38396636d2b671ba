import type Dockerode from 'dockerode';
import { existsSync } from 'node:fs';
import { chown, mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { isTaskId } from '../common/ids.js';
import { runProcess } from '../common/run-process.js';
import { taskDir } from '../common/task-paths.js';
import { rememberedOverlayVolumeProblem, removeAsRoot, removeWorkspaceVolumes, WorkspaceVolume } from '../docker/workspace-volume.js';
import { TskError } from '../errors/index.js';
import { borrowedObjectDirs, ensureWorkspaceBase, prepareWorkspace, pruneWorkspaceBases, workspaceBasesDir, type LayerBase, type WorkspaceBase } from '../git/index.js';
import { log as debug, type LogSink } from '../logging/index.js';
import type { TaskSource, TaskSpec } from '../model/index.js';
import { LABEL_TASK } from '../docker/container-spec.js';
import type { AgentIds } from './agent-ids.js';

/** What of a task its workspace needs. */
export type WorkspaceTask = Pick<TaskSpec, 'id' | 'branch'>;

/**
 * How a task gets its workspace: `auto` a copy-on-write layer over a shared checkout where the engine can
 * mount one (else a copy, said once per process), `copy` always a full clone of its own.
 */
export type WorkspaceMode = 'auto' | 'copy';

/** `TSK_WORKSPACES=copy` forces the copy path (tests of both paths; users who want it). */
export function workspaceModeFromEnv(env: NodeJS.ProcessEnv = process.env): WorkspaceMode {
  return env.TSK_WORKSPACES === 'copy' ? 'copy' : 'auto';
}

export interface TaskWorkspaceOptions {
  docker: Dockerode;
  dataDir: string;
  workerName: string;
  ids: AgentIds;
  mode: WorkspaceMode;
}

/** What the sandbox mounts at its workspace path. */
export interface WorkspaceMount {
  /** The host folder bind-mounted (the copy path), or the layer's upper folder (copy-on-write). */
  hostDir: string;
  /** A copy-on-write workspace's volume and the folders it borrows read-only. */
  volume?: { name: string; readOnlyPaths: string[] };
}

/** Whether this process already said why copy-on-write workspaces are unavailable. */
let fallbackSaid = false;
/** The engine's answer, asked once per process and client: why it cannot mount a layer, or undefined. */
const probes = new WeakMap<Dockerode, Promise<string | undefined>>();

/**
 * One task's workspace from preparation to removal. With copy-on-write, the shared base
 * (`git/workspace-base.ts`) is checked out once per origin and commit; each task gets a layer
 * (`<taskDir>/layer/{upper,work}`) and an overlay volume over both. Where the engine cannot mount it, the
 * task falls back to today's full clone (`<taskDir>/repo`).
 */
export class TaskWorkspace {
  private base: WorkspaceBase | undefined;
  private volume: WorkspaceVolume | undefined;
  private copied = false;
  private image: string | undefined;

  private constructor(
    private readonly options: TaskWorkspaceOptions,
    private readonly spec: WorkspaceTask,
    private readonly source: Extract<TaskSource, { kind: 'local' }>,
    private readonly taskDir: string,
    /** The commit the workspace starts from. */
    readonly baseCommit: string,
  ) {}

  /** The base (copy-on-write), or the task's own clone: what an image's project layer may COPY from. */
  get projectDir(): string {
    return this.base?.dir ?? this.copyDir;
  }

  private get copyDir(): string {
    return join(this.taskDir, 'repo');
  }

  private get upperDir(): string {
    return join(this.taskDir, 'layer', 'upper');
  }

  /** Check out (or reuse) what the task starts from. */
  static async prepare(options: TaskWorkspaceOptions, spec: WorkspaceTask, source: Extract<TaskSource, { kind: 'local' }>, taskDir: string, log: LogSink, signal?: AbortSignal): Promise<TaskWorkspace> {
    if (options.mode === 'auto') {
      const owner = process.getuid?.() === options.ids.uid ? undefined : options.ids;
      const base = await ensureWorkspaceBase({ dataDir: options.dataDir, source, leaseId: spec.id, owner, log, ...(signal ? { signal } : {}) });
      const workspace = new TaskWorkspace(options, spec, source, taskDir, base.commit);
      workspace.base = base;
      return workspace;
    }
    const copy = await prepareWorkspace({ source, dir: join(taskDir, 'repo'), branch: spec.branch, log });
    const workspace = new TaskWorkspace(options, spec, source, taskDir, copy.baseCommit);
    workspace.copied = true;
    return workspace;
  }

  /**
   * Make what the sandbox mounts, handed to the sandbox user: a layer and its volume (the engine asked once,
   * with `image`, whether it can mount one), or a copy of the workspace when it cannot.
   */
  async mount(image: string, log: LogSink): Promise<WorkspaceMount> {
    this.image = image;
    if (this.base !== undefined) {
      const problem = await this.overlayProblem(image);
      if (problem === undefined) return this.mountLayer(this.base);
      if (!fallbackSaid) log.write('warn', `copy-on-write workspaces unavailable: ${problem}; copying`);
      fallbackSaid = true;
      debug.runner('copy-on-write workspaces unavailable: %s', problem);
      await this.base.release();
      this.base = undefined;
    }
    if (!this.copied) {
      await prepareWorkspace({ source: this.source, dir: this.copyDir, branch: this.spec.branch, log });
      this.copied = true;
    }
    if (this.handsOver()) await chownTree(this.copyDir, this.options.ids);
    return { hostDir: this.copyDir };
  }

  /** What `collectResult` reads: the workspace (or the layer), and the base under a layer. */
  get collected(): { workspaceDir: string; layer?: LayerBase } {
    if (this.base === undefined) return { workspaceDir: this.copyDir };
    return { workspaceDir: this.upperDir, layer: { baseDir: this.base.dir, objectsDir: this.base.objectsDir } };
  }

  /** Remove the volume (the container is gone by now) and the layer, and end the task's lease on its base. */
  async release(): Promise<void> {
    try {
      if (this.volume !== undefined) {
        await this.volume.remove();
        const layer = join(this.taskDir, 'layer');
        // The kernel made `work/work` as root: a tsk that is not root asks the engine to remove it.
        const removed = await rm(layer, { recursive: true, force: true }).then(() => true, () => false);
        if (!removed && this.image !== undefined) await removeAsRoot(this.options.docker, this.image, layer);
      }
    } finally {
      await this.base?.release();
    }
  }

  private handsOver(): boolean {
    return process.getuid?.() !== this.options.ids.uid;
  }

  private overlayProblem(image: string): Promise<string | undefined> {
    const { docker, dataDir } = this.options;
    let probe = probes.get(docker);
    if (probe === undefined) {
      const user = `${this.options.ids.uid}:${this.options.ids.gid}`;
      probe = rememberedOverlayVolumeProblem(docker, image, workspaceBasesDir(dataDir), user).catch((error: unknown) => (error as Error).message);
      probes.set(docker, probe);
    }
    return probe;
  }

  /**
   * The task's layer: its branch written into the layer's `.git` (HEAD and the branch ref: the base is on a
   * detached HEAD and never changes), each folder and file tsk makes there handed to the sandbox user (a
   * few, never a walk of the tree), then the volume.
   */
  private async mountLayer(base: WorkspaceBase): Promise<WorkspaceMount> {
    const upper = this.upperDir;
    const work = join(this.taskDir, 'layer', 'work');
    const gitDir = join(upper, '.git');
    const refFile = join(gitDir, 'refs', 'heads', ...this.spec.branch.split('/'));
    await mkdir(work, { recursive: true, mode: 0o700 });
    const made: string[] = [upper];
    for (let dir = dirname(refFile); dir !== upper; dir = dirname(dir)) made.push(dir);
    await mkdir(dirname(refFile), { recursive: true, mode: 0o755 });
    await writeFile(join(gitDir, 'HEAD'), `ref: refs/heads/${this.spec.branch}\n`, { mode: 0o644 });
    await writeFile(refFile, `${this.baseCommit}\n`, { mode: 0o644 });
    if (this.handsOver()) {
      const { uid, gid } = this.options.ids;
      for (const path of [...made, join(gitDir, 'HEAD'), refFile]) await chown(path, uid, gid);
    }
    this.volume = await WorkspaceVolume.create(this.options.docker, { taskId: this.spec.id, workerName: this.options.workerName, dirs: { lower: base.dir, upper, work } });
    // What the origin borrows (a `--shared` or `--reference` clone) too, or git in the sandbox misses it.
    const readOnlyPaths = [base.objectsDir, ...(await borrowedObjectDirs(base.objectsDir))];
    return { hostDir: upper, volume: { name: this.volume.name, readOnlyPaths } };
  }
}

async function chownTree(dir: string, ids: AgentIds): Promise<void> {
  const result = await runProcess('chown', ['-R', `${ids.uid}:${ids.gid}`, '--', dir]);
  if (result.exitCode !== 0) throw new TskError('CONTAINER', `Could not hand the workspace to uid ${ids.uid}: ${result.stderr.trim()}`);
}

/**
 * `tsk clean`'s part for workspaces: the shared bases no running task holds, and the workspace volumes of
 * tasks whose folder under this data dir is gone (a process killed before it removed them; a volume still
 * in use by a container is never removed). Returns how many of each went.
 */
export async function cleanWorkspaces(docker: Dockerode, dataDir: string): Promise<{ bases: number; volumes: number }> {
  const bases = await pruneWorkspaceBases(dataDir, { idleMs: 0, maxBases: 0 });
  const volumes = await removeWorkspaceVolumes(docker, [], (labels) => {
    const task = labels[LABEL_TASK];
    return task === undefined || !isTaskId(task) || !existsSync(taskDir(dataDir, task));
  }).catch(() => 0); // no engine answers: the bases are cleaned all the same
  return { bases, volumes };
}
