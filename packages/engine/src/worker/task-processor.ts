import { hostname } from 'node:os';
import { UnrecoverableError, type Job } from 'bullmq';
import type { WorkerPolicy } from '../config/index.js';
import { boundedSink, teeSink } from '../logging/index.js';
import type { TaskResult, TaskSpec, TaskStatus } from '../model/index.js';
import { taskLogFile, taskLogWriter, validateTaskSpec, workerLostReason, type TaskOutcome, type TaskQueue } from '../queue/index.js';
import type { RunTaskOptions } from '../runner/task-runner.js';
import type { DesktopNotifier } from './desktop-notifier.js';
import { fileLogSink } from './file-log-sink.js';
import type { RunningTasks } from './running-tasks.js';
import type { WorkerEvent } from './worker-events.js';
import { policyRefusal, sourceRefusal } from './worker-policy.js';

/** What runs a task: the {@link TaskRunner} in production. */
export interface TaskExecutor {
  run(spec: TaskSpec, options: RunTaskOptions): Promise<TaskResult>;
}

export interface TaskProcessorOptions {
  queue: TaskQueue;
  executor: TaskExecutor;
  worker: string;
  policy: WorkerPolicy;
  dataDir: string;
  running: RunningTasks;
  notify: DesktopNotifier;
  onEvent: (event: WorkerEvent) => void;
}

/** What the BullMQ job returns (its "return value"): the task's outcome in short. */
export interface JobOutcome {
  status: TaskStatus;
  branch: string | null;
  error: string | null;
}

/**
 * Runs one job: check the payload and this worker's policy, claim the task (so a cancelled or already
 * ended task never starts), run it with its log going to Redis and disk, record the outcome and cascade
 * to its children. Payload and policy failures fail the job with UnrecoverableError (never retried).
 */
export class TaskProcessor {
  constructor(private readonly options: TaskProcessorOptions) {}

  async process(job: Job): Promise<JobOutcome> {
    const id = job.id ?? '(no id)';
    let spec: TaskSpec;
    try {
      spec = validateTaskSpec(job.data, id);
    } catch (error) {
      return this.refuse(id, (error as Error).message);
    }
    const refusal = policyRefusal(spec, this.options.policy) ?? sourceRefusal(spec, hostname());
    if (refusal !== undefined) return this.refuse(id, refusal);

    const { queue, worker } = this.options;
    const startedAt = new Date().toISOString();
    const claim = await queue.store.claim(id, worker, startedAt);
    if (claim.kind === 'missing') throw new UnrecoverableError(`task ${id} has no record (deleted?)`);
    // Ended before a worker got to it (cancelled, its worker lost): nothing to run.
    if (claim.kind === 'not-runnable') return { status: claim.status, branch: null, error: `already ${claim.status}` };
    if (claim.kind === 'cancel') return this.end(spec, { status: 'CANCELLED', error: 'Cancelled' }, Date.now(), undefined);
    let rerun = false;
    if (claim.kind === 'rerun') {
      // The job came back after its worker was lost. Run it again only where re-queueing is the policy.
      const alive = (await queue.store.workersAlive([claim.previousWorker])).get(claim.previousWorker);
      if (!this.options.policy.requeueLost || alive !== false || !(await queue.store.reclaim(id, worker, startedAt))) {
        return this.end(spec, { status: 'FAILED', error: workerLostReason(claim.previousWorker) }, Date.now(), claim.previousWorker);
      }
      rerun = true;
    }
    return this.run(spec, rerun);
  }

  private async run(spec: TaskSpec, rerun: boolean): Promise<JobOutcome> {
    const { queue, running, onEvent } = this.options;
    const started = Date.now();
    onEvent({ kind: 'started', task: spec.id, name: spec.name, type: spec.type, agent: spec.agent, rerun });
    const redisLog = taskLogWriter(queue.redis, queue.keys, spec.id);
    const fileLog = fileLogSink(taskLogFile(this.options.dataDir, spec.id));
    // Unbounded on purpose: the runner bounds what it writes (agent and build output included), and this
    // is the only other line.
    const log = teeSink(redisLog, fileLog);
    log.write('tsk', `${rerun ? 'Re-running' : 'Running'} on worker ${this.options.worker}`);
    const signal = running.start(spec.id);
    try {
      const result = await this.options.executor.run(spec, { log, signal });
      const reason = running.reasonOf(spec.id);
      const outcome: TaskOutcome = {
        status: result.status,
        branch: result.branch,
        commit: result.commit,
        error: result.status === 'CANCELLED' && reason !== undefined ? reason : result.error,
        summary: result.summary,
        finishedAt: result.finishedAt,
      };
      await redisLog.flush();
      return await this.end(spec, outcome, started, this.options.worker);
    } finally {
      running.end(spec.id);
      await fileLog.close();
    }
  }

  /** Record the outcome (unless someone else already ended the task), cascade, report and notify. */
  private async end(spec: TaskSpec, outcome: TaskOutcome, started: number, ifWorker: string | undefined): Promise<JobOutcome> {
    await this.options.queue.chain.finish(spec.id, outcome, { ifWorker });
    const durationMs = Date.now() - started;
    this.options.onEvent({ kind: 'finished', task: spec.id, status: outcome.status, branch: outcome.branch, error: outcome.error, durationMs });
    const detail = outcome.branch ?? outcome.error ?? outcome.summary ?? '';
    this.options.notify(`tsk: ${spec.name} ${outcome.status}`, `${spec.id} ${detail}`.trim());
    return { status: outcome.status, branch: outcome.branch ?? null, error: outcome.error ?? null };
  }

  /** Fail a job this worker will not run, with the reason on the task and on the job. */
  private async refuse(id: string, reason: string): Promise<never> {
    const { queue } = this.options;
    // A job without a task record (written by something else) gets no log stream either.
    if (await queue.store.exists(id)) {
      const log = taskLogWriter(queue.redis, queue.keys, id);
      // The reason can quote the payload, which anyone with access to Redis wrote.
      boundedSink(log).write('warn', `Worker ${this.options.worker}: ${reason}`);
      await log.flush();
      await queue.chain.finish(id, { status: 'FAILED', error: reason });
    }
    this.options.onEvent({ kind: 'refused', task: id, reason });
    throw new UnrecoverableError(reason);
  }
}
