import type Dockerode from 'dockerode';
import { chown, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { getAgent } from '../agents/index.js';
import { cutLine } from '../common/line-splitter.js';
import { runProcess } from '../common/run-process.js';
import type { ImageBuilder } from '../docker/index.js';
import { TaskCancelledError, TskError } from '../errors/index.js';
import { collectResult, prepareWorkspace } from '../git/index.js';
import { boundedSink, log as debug, LOG_LIMITS, type LogSink } from '../logging/index.js';
import type { TaskResult, TaskSpec } from '../model/index.js';
import type { SandboxNetworkProvider } from '../proxy/network-provider.js';
import { agentIds, type AgentIds } from './agent-ids.js';
import { ensureTaskImage } from './steps/ensure-task-image.js';
import { runAgent, type AgentRunResult } from './steps/run-agent.js';

export interface TaskRunnerOptions {
  docker: Dockerode;
  images: ImageBuilder;
  network: SandboxNetworkProvider;
  /** `<dataDir>/tasks/<id>` holds each task's workspace and instructions while it runs. */
  dataDir: string;
  /** Recorded on containers (`tsk.worker`) so a later worker can reap what this one left. */
  workerName: string;
  /** @defaultValue the uid/gid of this process, or 1000:1000 when it is root */
  agentIds?: AgentIds;
}

export interface RunTaskOptions {
  /** Receives the task's lines sanitized, cut and capped by {@link boundedSink}. */
  log: LogSink;
  /** Abort to cancel: the container is killed and the task ends CANCELLED. */
  signal?: AbortSignal;
}

/** The directory a task uses while it runs. */
export function taskDir(dataDir: string, taskId: string): string {
  return join(dataDir, 'tasks', taskId);
}

/**
 * Runs one task from its spec to its result: workspace clone, image, sandboxed agent, result branch.
 * Serves both `tsk run` (inline) and the queue worker. Never throws for a task failure: every outcome,
 * including cancellation, is a {@link TaskResult}; the workspace and container are always removed.
 */
export class TaskRunner {
  private engineCpus: number | undefined;
  private readonly ids: AgentIds;

  constructor(private readonly options: TaskRunnerOptions) {
    this.ids = options.agentIds ?? agentIds();
  }

  async run(spec: TaskSpec, options: RunTaskOptions): Promise<TaskResult> {
    const { signal } = options;
    // The one place a task's output is bounded: `tsk run`'s terminal and a worker's Redis stream and file
    // all get it through here.
    const log = boundedSink(options.log);
    const startedAt = new Date().toISOString();
    // The agent writes the error and summary too (its exit report): they are stored with the task.
    const bounded = (text: string | undefined) => (text === undefined ? undefined : cutLine(text, LOG_LIMITS.lineChars));
    const finish = (status: TaskResult['status'], fields: Partial<TaskResult> = {}): TaskResult => ({
      id: spec.id,
      status,
      branch: undefined,
      commit: undefined,
      ...fields,
      error: bounded(fields.error),
      summary: bounded(fields.summary),
      startedAt,
      finishedAt: new Date().toISOString(),
    });
    const dir = taskDir(this.options.dataDir, spec.id);
    try {
      const result = await this.execute(spec, dir, log, signal);
      if (result.cancelled) return finish('CANCELLED', { error: 'Cancelled' });
      if (result.exitCode !== 0) return finish('FAILED', { error: `Agent exited with code ${result.exitCode}`, summary: result.summary });
      if (result.agentSuccess === false) return finish('FAILED', { error: result.summary ?? 'Agent reported failure', summary: result.summary });
      return finish('COMPLETE', await this.collect(spec, dir, result, log));
    } catch (error) {
      if (error instanceof TaskCancelledError || signal?.aborted) return finish('CANCELLED', { error: 'Cancelled' });
      debug.runner('[%s] failed: %O', spec.id, error);
      return finish('FAILED', { error: error instanceof TskError ? error.userMessage : (error as Error).message });
    } finally {
      await rm(dir, { recursive: true, force: true }).catch((error: unknown) => {
        log.write('warn', `Could not remove task directory ${dir}: ${(error as Error).message}`);
      });
    }
  }

  private async execute(spec: TaskSpec, dir: string, log: LogSink, signal: AbortSignal | undefined): Promise<AgentRunResult & { baseCommit: string }> {
    const agent = getAgent(spec.agent);
    const workspaceDir = join(dir, 'repo');
    const instructionsFile = join(dir, 'instructions.md');
    await mkdir(dir, { recursive: true });
    await writeFile(instructionsFile, spec.instructions, { mode: 0o644 });

    log.write('tsk', `Preparing workspace on branch ${spec.branch}`);
    const handOver = this.needsHandOver();
    // Hard-linked objects share inodes with the user's repository: chowning them would re-own the user's
    // own object files, so a workspace that is handed over gets copies.
    const workspace = await prepareWorkspace({ source: spec.source, dir: workspaceDir, branch: spec.branch, log, linkObjects: !handOver });
    throwIfCancelled(spec.id, signal);
    // After the clone: the project layer may COPY files of the task's snapshot.
    const image = await ensureTaskImage(this.options, spec, this.ids, { log, signal, projectDir: workspaceDir });
    if (handOver) await this.handOver(workspaceDir, dir);
    throwIfCancelled(spec.id, signal);

    const lease = await this.options.network.acquire({ id: spec.id, config: spec.config, log, signal });
    try {
      const result = await runAgent({
        docker: this.options.docker,
        spec,
        agent,
        image,
        workspaceDir,
        instructionsFile,
        network: lease.network,
        workerName: this.options.workerName,
        engineCpus: await this.cpus(),
        log,
        signal,
      });
      return { ...result, baseCommit: workspace.baseCommit };
    } finally {
      await lease.release();
    }
  }

  private async collect(spec: TaskSpec, dir: string, run: { baseCommit: string; summary: string | undefined }, log: LogSink): Promise<Partial<TaskResult>> {
    const result = await collectResult({
      workspaceDir: join(dir, 'repo'),
      branch: spec.branch,
      baseCommit: run.baseCommit,
      taskName: spec.name,
      repoPath: spec.repoPath,
      parentBranch: spec.parentBranch,
      gitTown: spec.config.gitTown,
      log,
    });
    if (!result.changed) {
      log.write('tsk', 'No changes: no branch created');
      return { summary: run.summary ?? 'No changes' };
    }
    return { branch: spec.branch, commit: result.commit, summary: run.summary };
  }

  /** Whether the sandbox user differs from this process's user (tsk running as root). */
  private needsHandOver(): boolean {
    return process.getuid?.() !== this.ids.uid;
  }

  /** Give the workspace to the sandbox user. */
  private async handOver(workspaceDir: string, dir: string): Promise<void> {
    await chown(dir, this.ids.uid, this.ids.gid);
    const result = await runProcess('chown', ['-R', `${this.ids.uid}:${this.ids.gid}`, workspaceDir]);
    if (result.exitCode !== 0) throw new TskError('CONTAINER', `Could not hand the workspace to uid ${this.ids.uid}: ${result.stderr.trim()}`);
  }

  private async cpus(): Promise<number> {
    this.engineCpus ??= ((await this.options.docker.info()) as { NCPU?: number }).NCPU ?? 1;
    return this.engineCpus;
  }
}

function throwIfCancelled(taskId: string, signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new TaskCancelledError(taskId);
}
