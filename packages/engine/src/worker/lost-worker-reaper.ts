import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type Dockerode from 'dockerode';
import { LABEL_MANAGED, LABEL_ROLE_WORKSPACE, LABEL_TASK, LABEL_WORKER, removeWorkspaceVolumes } from '../docker/index.js';
import { dockerStatus } from '../docker/docker-client.js';
import type { WorkerQueue } from '../queue/index.js';
import { isTaskId } from '../common/ids.js';
import { taskDir } from '../common/task-paths.js';
import type { WorkerEvent } from './worker-events.js';

export interface LostWorkerReaperOptions {
  docker: Dockerode;
  queue: WorkerQueue;
  /** This worker: never reaped by itself. */
  worker: string;
  dataDir: string;
  /** Re-queue a lost worker's tasks instead of failing them (`[worker] requeue_lost`). */
  requeueLost: boolean;
  /**
   * After this process (re)connects to Redis it waits this long before judging anyone lost: when Redis
   * itself was down, every worker's heartbeat lapsed and they need a moment to beat again.
   */
  settleMs: number;
  onEvent: (event: WorkerEvent) => void;
  /**
   * Frees task networks whose task is gone and proxies left without tasks; they belong to the network
   * provider, not to the worker. @defaultValue nothing
   */
  sweepNetworks?: () => Promise<unknown>;
  /**
   * Whether this worker's own runner still has the task: its workspace is the runner's to remove (a worker
   * that was frozen, declared lost and thawed finds its task ended and must not lose the workspace under
   * its feet). @defaultValue none
   */
  runningHere?: (taskId: string) => boolean;
}

/**
 * Cleans up after queue workers that died without stopping (SIGKILL, power loss): their RUNNING tasks
 * become FAILED "worker <name> lost" (or are re-queued) by the queue's one rule (`lost-workers.ts`), and on
 * this Docker host their sandboxes, networks and workspaces are removed. Every worker runs it
 * periodically; all steps are idempotent, so several workers sweeping at once is harmless.
 */
export class LostWorkerReaper {
  constructor(private readonly options: LostWorkerReaperOptions) {}

  async sweep(): Promise<void> {
    const { queue, worker, settleMs, requeueLost } = this.options;
    const dead = await queue.deadWorkers(worker, settleMs);
    for (const lost of await queue.settleLostTasks(worker, settleMs, requeueLost)) this.options.onEvent({ kind: 'lost', ...lost });
    await this.reapLeftovers(dead);
    // Every sweep, not only after reaping: a task network outlives its task when the process that ran
    // it died at any moment (a killed `tsk run` too), and its proxy must not stay up for nobody.
    await this.options.sweepNetworks?.();
    await this.removeStaleWorkspaces();
    await queue.sweepWaiting();
  }

  /**
   * Sandboxes and workspace volumes on this Docker host left by dead queue workers, and the workspaces of
   * their tasks here; and this worker's own of tasks it no longer runs and the queue has ended: what its
   * runner could not remove because the engine was away at that moment (an engine restart kills the
   * sandbox, or refuses its start, and then its removal), found again once the engine answers. Their task
   * networks and proxies belong to a lock domain, not a worker: `sweepNetworks` frees them.
   */
  private async reapLeftovers(dead: Set<string>): Promise<void> {
    const { docker, worker: self } = this.options;
    const [containers, volumes] = await Promise.all([
      docker.listContainers({ all: true, filters: { label: [`${LABEL_MANAGED}=true`, LABEL_WORKER] } }),
      docker.listVolumes({ filters: { label: [`${LABEL_MANAGED}=true`, LABEL_ROLE_WORKSPACE, LABEL_WORKER] } }).then((listed) => listed.Volumes ?? []),
    ]);
    /** Task → whether the queue has ended it (asked once per sweep). */
    const verdicts = new Map<string, boolean>();
    const mayGo = async (worker: string, task: string | undefined): Promise<boolean> => {
      if (dead.has(worker)) return true;
      if (worker !== self || task === undefined || !isTaskId(task) || this.options.runningHere?.(task) !== false) return false;
      if (!verdicts.has(task)) verdicts.set(task, (await this.options.queue.endedTask(task)) !== undefined);
      return verdicts.get(task) === true;
    };
    /** Task → the worker whose leftovers go. */
    const tasks = new Map<string, string>();
    for (const info of containers) {
      const worker = info.Labels[LABEL_WORKER] ?? '';
      const task = info.Labels[LABEL_TASK];
      if (!(await mayGo(worker, task))) continue;
      const name = info.Names[0]?.replace(/^\//, '') ?? info.Id.slice(0, 12);
      await ignoreGone(docker.getContainer(info.Id).remove({ force: true, v: true }));
      this.options.onEvent({ kind: 'reaped', what: 'container', name, worker });
      if (task !== undefined) tasks.set(task, worker);
    }
    for (const volume of volumes) {
      const worker = volume.Labels?.[LABEL_WORKER] ?? '';
      const task = volume.Labels?.[LABEL_TASK];
      if (task !== undefined && (await mayGo(worker, task))) tasks.set(task, worker);
    }
    for (const [task, worker] of tasks) {
      // A dead worker's task may run here again by now (re-queued): its workspace is the runner's.
      if (!this.options.runningHere?.(task)) await this.removeWorkspace(task, worker, { ofWorkerOnly: true });
    }
  }

  /**
   * Workspaces under this machine's data dir whose task has ended (the runner normally removes them).
   * Also run once by a stopping worker: a task of a killed predecessor on this data dir may have been
   * declared lost by another worker since the last sweep, and nobody else sweeps this folder.
   */
  async removeStaleWorkspaces(): Promise<void> {
    // Names come from this machine's disk, never from a record: a record's `id` field is whatever was
    // written to Redis.
    const ids = (await readdir(join(this.options.dataDir, 'tasks')).catch(() => [] as string[])).filter(isTaskId);
    for (const id of ids) {
      // Only tasks the queue knows: `tsk run` workspaces share the directory and have no record.
      if (this.options.runningHere?.(id)) continue;
      const ended = await this.options.queue.endedTask(id);
      if (ended !== undefined) await this.removeWorkspace(id, ended.worker ?? '(unknown)');
    }
  }

  /** `ofWorkerOnly`: only the volumes `worker` made (another worker on this engine may run the task again). */
  private async removeWorkspace(taskId: string, worker: string, { ofWorkerOnly = false } = {}): Promise<void> {
    if (!isTaskId(taskId)) return;
    const dir = taskDir(this.options.dataDir, taskId);
    const existed = (await readdir(dir).catch(() => undefined)) !== undefined;
    // A copy-on-write workspace's volume first: its layer lives in the folder.
    const labels = [`${LABEL_TASK}=${taskId}`, ...(ofWorkerOnly ? [`${LABEL_WORKER}=${worker}`] : [])];
    await removeWorkspaceVolumes(this.options.docker, labels).catch(() => 0);
    await rm(dir, { recursive: true, force: true });
    if (existed) this.options.onEvent({ kind: 'reaped', what: 'workspace', name: dir, worker });
  }
}

async function ignoreGone(operation: Promise<unknown>): Promise<void> {
  try {
    await operation;
  } catch (error) {
    const status = dockerStatus(error);
    if (status !== 404 && status !== 409) throw error;
  }
}
