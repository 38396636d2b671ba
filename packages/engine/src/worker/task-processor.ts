import { realpath } from 'node:fs/promises';
import { hostname } from 'node:os';
import { isTaskId } from '../common/ids.js';
import { taskLogFile } from '../common/task-paths.js';
import type { WorkerPolicy } from '../config/index.js';
import { TaskRefusedError, TskError } from '../errors/index.js';
import { RemoteMirror, resultRef } from '../git/index.js';
import { teeSink } from '../logging/index.js';
import { describeLabels, missingLabels, type TaskResult, type TaskSpec } from '../model/index.js';
import { workerLostReason, type JobOutcome, type JobVerdict, type QueueJob, type TaskOutcome, type WorkerQueue } from '../queue/index.js';
import type { RunTaskOptions } from '../runner/task-runner.js';
import { openSignedJob, signResult, type KeyRing, type SigningKey, type VerifiedTask } from '../signing/index.js';
import { grantTask, policyRefusalMessage, policyRefusals, type TaskGrant } from '../trust/index.js';
import { chainedStart } from './chained-start.js';
import type { DesktopNotifier } from './desktop-notifier.js';
import { fileLogSink } from './file-log-sink.js';
import { MAX_RATE_LIMIT_DELAYS, rateLimitedUntil, rateLimitGivingUp } from './rate-limit.js';
import { MAX_JOB_AGE_MS, type RunLedger } from './run-ledger.js';
import type { RunningTasks } from './running-tasks.js';
import { StartGate, waitUnlessAborted } from './start-gate.js';
import type { WorkerEvent } from './worker-events.js';

/**
 * What runs a task: the {@link TaskRunner} in production. A result with `retryAt` (the agent hit its API's
 * rate limit) puts the task back in the queue instead of ending it.
 */
export interface TaskExecutor {
  run(spec: TaskSpec, options: RunTaskOptions): Promise<TaskResult>;
}

/** Who the worker is and what it allows: its owner's key, the keys it trusts, its policy and what it may hand out. */
export interface WorkerTrust {
  /** The worker owner's key: it signs the results of the tasks this worker runs. */
  key: SigningKey;
  ring: KeyRing;
  policy: WorkerPolicy;
  /** The worker's own `base_image`. */
  baseImage: string;
  /** The worker's own shared remote, which every signer's tasks may use. */
  remote: string | undefined;
  /** The environment `env_from_worker` values come from. */
  environment: NodeJS.ProcessEnv;
  /** Where the owner's agent logins are (`~`). */
  ownerHome: string;
  /** Which task ids this machine has run. */
  ledger: RunLedger;
}

export interface TaskProcessorOptions {
  queue: WorkerQueue;
  executor: TaskExecutor;
  worker: string;
  trust: WorkerTrust;
  dataDir: string;
  running: RunningTasks;
  notify: DesktopNotifier;
  onEvent: (event: WorkerEvent) => void;
  /** Whether the worker was told to stop: then it takes no new task. */
  isStopping: () => boolean;
  /** How long a job this worker hands back stays out of the queue before any worker may take it again. */
  handBackDelayMs: number;
  /** `[server] start_interval`: the least time between two task starts of this worker. @defaultValue 0 */
  startIntervalMs?: number;
}

/**
 * What a worker makes of one job: the task's life cycle on a worker, in order.
 * 1. Verify: before anything touches a file, git or Docker, the job must be signed by a trusted key and
 *    unaltered, its spec well-formed.
 * 2. Leave it to others when this worker lacks a label it requires or its repository, or is stopping
 *    (handed back to the queue, unclaimed).
 * 3. Check: recent, allowed by this worker's policy for its signer; else refused (FAILED, never retried).
 * 4. Wait for its turn to start (`start_interval` after this worker's last start), then claim it (so a
 *    cancelled or already ended task never starts, and a task runs once), and note it in this machine's
 *    ledger.
 * 5. Run it: a chained task's start from its parent's signed result, its log to Redis and disk.
 * 6. End it: the outcome recorded (first writer wins), signed by this worker, cascaded to its children —
 *    or, when its agent was rate limited, put it back in the queue DELAYED until its limit resets (bounded:
 *    `rate-limit.ts`), to run again from its snapshot; this machine's ledger allows that one run again.
 */
export class TaskProcessor {
  /** Tasks this worker has handed back (each reported once). */
  private readonly handedBack = new Set<string>();
  private readonly startGate: StartGate;

  constructor(private readonly options: TaskProcessorOptions) {
    this.startGate = new StartGate(options.startIntervalMs ?? 0);
  }

  async process(job: QueueJob): Promise<JobVerdict> {
    const { id } = job;
    // Not even a task id: nothing of tsk's to record the refusal on.
    if (!isTaskId(id)) return { kind: 'refused', reason: `job ${id.slice(0, 40)} is not a tsk task` };
    let verified: VerifiedTask;
    let leave: { note: string | undefined } | undefined;
    try {
      verified = openSignedJob(job.data, this.options.trust.ring, id);
      // Before the policy: a task this worker lacks a label or the repository for is another worker's to
      // judge (a GPU worker may allow the devices this one refuses).
      leave = await this.leaveToOthers(verified.spec);
      if (leave === undefined) await this.checkRunnable(verified);
    } catch (error) {
      return this.refuse(id, error instanceof TskError ? error.userMessage : (error as Error).message);
    }
    const { spec } = verified;
    if (leave !== undefined) return this.handBack(spec, leave.note);
    // Told to stop while it waited its turn: not claimed, not in the ledger, so any worker may take it.
    if (!(await this.waitForStartTurn(id))) return this.handBack(spec, undefined);
    const ledger = await this.options.trust.ledger.begin(id);

    const { queue, worker } = this.options;
    // Run again after a lost worker only where re-queueing is the policy, and never when this machine saw it finish.
    const claim = await queue.claim(id, worker, { resumeLost: this.options.trust.policy.requeueLost && ledger !== 'finished' });
    if (claim.kind === 'missing') return { kind: 'refused', reason: `task ${id} has no record (deleted?)` };
    // Ended before a worker got to it (cancelled, its worker lost): nothing to run.
    if (claim.kind === 'not-runnable') return done({ status: claim.status, branch: null, error: `already ${claim.status}` });
    if (claim.kind === 'cancel') return done(await this.end(spec, { status: 'CANCELLED', error: 'Cancelled' }, Date.now(), undefined));
    if (claim.kind === 'lost') return done(await this.end(spec, { status: 'FAILED', error: workerLostReason(claim.previousWorker) }, Date.now(), claim.previousWorker));
    // A run again after a delay only when this machine's own ledger says it delayed the task (`resumed`).
    if (!claim.rerun && ledger !== 'new' && ledger !== 'resumed') {
      return done(await this.end(spec, { status: 'FAILED', error: `task ${id} already ran on this machine: a job queued again is refused` }, Date.now(), worker));
    }
    return this.run(verified, claim.rerun);
  }

  /**
   * `start_interval`: wait until this worker's last start is that long ago (each task reserves its turn),
   * saying so in the task's log. The task is not claimed yet, but cancelling it (or stopping the worker)
   * ends the wait: it counts as running here. Returns false when the worker was told to stop meanwhile.
   */
  private async waitForStartTurn(id: string): Promise<boolean> {
    const { running, queue } = this.options;
    const waitMs = this.startGate.reserve();
    if (waitMs <= 0) return true;
    const log = queue.logWriter(id);
    log.write('tsk', `waiting ${formatSeconds(waitMs)} (start_interval) before starting`);
    await log.flush();
    const signal = running.start(id);
    try {
      await waitUnlessAborted(waitMs, signal);
    } finally {
      running.end(id);
    }
    // A cancel goes on to the claim, which sees it and ends the task CANCELLED.
    return !(signal.aborted && this.options.isStopping());
  }

  /**
   * Whether this worker leaves the task to another, with the note the task shows while it waits: it was
   * told to stop (no note), it lacks a label the task requires, or the task's repository is a path on
   * another machine. Undefined: it may take the task.
   */
  private async leaveToOthers(spec: TaskSpec): Promise<{ note: string | undefined } | undefined> {
    if (this.options.isStopping()) return { note: undefined };
    if (missingLabels(spec.requires, this.options.trust.policy.labels).length > 0) {
      return { note: `waiting for a worker with ${describeLabels(spec.requires ?? [])}` };
    }
    if (spec.source.kind === 'local' && (await realpath(spec.repoPath).catch(() => undefined)) === undefined) {
      return { note: `waiting for a worker on the machine that has ${spec.repoPath}` };
    }
    // `tsk retry --push`: only the worker that kept the result can push it.
    const kept = spec.publishes;
    if (kept !== undefined && spec.source.kind === 'remote' && !(await new RemoteMirror(this.options.dataDir, spec.source.url).holds(resultRef(kept.task), kept.commit))) {
      return { note: `waiting for the worker that kept the result of task ${kept.task}` };
    }
    return undefined;
  }

  /**
   * Give the job back to the queue, unclaimed and without using its attempt (see `consumeJobs`); any
   * worker may take it once the delay is over. The task stays QUEUED with `note` saying what it waits
   * for. A task with a pending cancel is ended CANCELLED here instead, so it never circles the queue.
   */
  private async handBack(spec: TaskSpec, note: string | undefined): Promise<JobVerdict> {
    const reply = await this.options.queue.handBack(spec.id, note);
    if (reply.kind === 'missing') return { kind: 'refused', reason: `task ${spec.id} has no record (deleted?)` };
    if (reply.kind === 'not-runnable') return done({ status: reply.status, branch: null, error: `already ${reply.status}` });
    if (reply.kind === 'cancel') return done(await this.end(spec, { status: 'CANCELLED', error: 'Cancelled' }, Date.now(), undefined));
    if (!this.handedBack.has(spec.id)) {
      // Once per task: a job nobody here can take comes back every few seconds.
      if (this.handedBack.size >= 1000) this.handedBack.clear();
      this.handedBack.add(spec.id);
      this.options.onEvent({ kind: 'handed-back', task: spec.id, reason: note ?? 'this worker is stopping' });
    }
    return { kind: 'hand-back', delayMs: this.options.handBackDelayMs };
  }

  /** Everything decided from the verified job and this machine, before the task is claimed. @throws TskError */
  private async checkRunnable({ spec, signer }: VerifiedTask): Promise<void> {
    const { trust } = this.options;
    const age = Date.now() - Date.parse(spec.createdAt);
    if (age > MAX_JOB_AGE_MS) throw new TaskRefusedError(spec.id, `it was queued more than ${MAX_JOB_AGE_MS / 86_400_000} days ago`, { hint: `run \`tsk retry ${spec.id}\`` });
    // A remote source is fetched into this worker's mirror; a local one was found here a moment ago (see
    // leaveToOthers) unless it has just gone.
    const repoRealPath = spec.source.kind === 'remote' ? spec.repoPath : await realpath(spec.repoPath).catch(() => undefined);
    if (repoRealPath === undefined) {
      throw new TaskRefusedError(spec.id, `repository ${spec.repoPath} is not on this worker's machine (${hostname()})`, {
        hint: 'tasks queued from another machine need a shared git remote',
      });
    }
    const refused = policyRefusals(spec, signer, { policy: trust.policy, baseImage: trust.baseImage, remote: trust.remote }, repoRealPath);
    if (refused.length > 0) throw new TaskRefusedError(spec.id, policyRefusalMessage(signer, refused));
  }

  private async run(verified: VerifiedTask, rerun: boolean): Promise<JobVerdict> {
    const { queue, running, onEvent, trust } = this.options;
    const started = Date.now();
    let spec = verified.spec;
    onEvent({ kind: 'started', task: spec.id, name: spec.name, type: spec.type, agent: spec.agent, rerun });
    const redisLog = queue.logWriter(spec.id);
    const fileLog = fileLogSink(taskLogFile(this.options.dataDir, spec.id));
    // Unbounded on purpose: the runner bounds what it writes (agent and build output included), and this
    // is the only other line.
    const log = teeSink(redisLog, fileLog);
    log.write('tsk', `${rerun ? 'Re-running' : 'Running'} on worker ${this.options.worker} (queued by ${verified.signer.name})`);
    const signal = running.start(spec.id);
    let delayed: number | undefined;
    try {
      let grant: TaskGrant;
      try {
        spec = await chainedStart(spec, queue, trust.ring);
        grant = await grantTask(spec, verified.signer, { policy: trust.policy, environment: trust.environment, ownerHome: trust.ownerHome });
      } catch (error) {
        const reason = error instanceof TskError ? error.userMessage : (error as Error).message;
        log.write('warn', reason);
        await redisLog.flush();
        return done(await this.end(spec, { status: 'FAILED', error: reason }, started, this.options.worker));
      }
      const result = await this.options.executor.run(spec, { log, signal, grant, mayPublish: () => queue.ownership(spec.id, this.options.worker) });
      const reason = running.reasonOf(spec.id);
      const { id: _id, startedAt: _startedAt, retryAt, ...ended } = result;
      // Rate limited: not a failure. A cancel, or a result that completed, stands.
      if (retryAt !== undefined && result.status === 'FAILED' && reason === undefined) {
        const until = rateLimitedUntil(retryAt);
        const reply = await queue.delay(spec.id, this.options.worker, until, { counted: await trust.ledger.delays(spec.id), maxDelays: MAX_RATE_LIMIT_DELAYS });
        if (reply.kind === 'ok') {
          log.write('tsk', `rate limited: back in the queue until ${until.toISOString()}`);
          await redisLog.flush();
          delayed = reply.delays;
          onEvent({ kind: 'delayed', task: spec.id, until: until.toISOString(), delays: reply.delays });
          return { kind: 'delay', until: until.getTime() };
        }
        if (reply.kind === 'limit') {
          const error = rateLimitGivingUp(reply.delays);
          log.write('warn', error);
          await redisLog.flush();
          return done(await this.end(spec, { ...ended, status: 'FAILED', error }, started, this.options.worker));
        }
        // A pending cancel: it ends CANCELLED, as the run would have; ended or lost: `end` changes nothing.
        if (reply.kind === 'cancel') return done(await this.end(spec, { ...ended, status: 'CANCELLED', error: 'Cancelled' }, started, this.options.worker));
      }
      const outcome: TaskOutcome = { ...ended, error: result.status === 'CANCELLED' && reason !== undefined ? reason : result.error };
      await redisLog.flush();
      return done(await this.end(spec, outcome, started, this.options.worker));
    } finally {
      running.end(spec.id);
      // Before the job leaves this worker: the ledger must allow the run again by the time the job is back.
      if (delayed !== undefined) await trust.ledger.delayed(spec.id, delayed);
      else await trust.ledger.finish(spec.id);
      await fileLog.close();
    }
  }

  /**
   * Record the outcome (unless someone else already ended the task), signed by this worker when it ran the
   * task, cascade, report and notify.
   */
  private async end(spec: TaskSpec, outcome: TaskOutcome, started: number, ifWorker: string | undefined): Promise<JobOutcome> {
    const signature =
      ifWorker === this.options.worker
        ? signResult({ taskId: spec.id, status: outcome.status, baseCommit: outcome.baseCommit, commit: outcome.commit, branch: outcome.branch }, this.options.trust.key)
        : undefined;
    await this.options.queue.end(spec.id, { ...outcome, signature }, { ifWorker });
    const durationMs = Date.now() - started;
    this.options.onEvent({ kind: 'finished', task: spec.id, status: outcome.status, branch: outcome.branch, error: outcome.error, durationMs });
    const detail = outcome.branch ?? outcome.error ?? outcome.summary ?? '';
    this.options.notify(`tsk: ${spec.name} ${outcome.status}`, `${spec.id} ${detail}`.trim());
    return { status: outcome.status, branch: outcome.branch ?? null, error: outcome.error ?? null };
  }

  /** Fail a job this worker will not run, with the reason on the task and on the job. */
  private async refuse(id: string, reason: string): Promise<JobVerdict> {
    await this.options.queue.refuse(id, this.options.worker, reason);
    this.options.onEvent({ kind: 'refused', task: id, reason });
    return { kind: 'refused', reason };
  }
}

/** `2s`, `1.5s`. */
function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))}s`;
}

/** A job whose task ran or ended: it completes with this outcome. */
function done(outcome: JobOutcome): JobVerdict {
  return { kind: 'done', outcome };
}
