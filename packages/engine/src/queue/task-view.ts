import { isTerminal, type TaskStatus } from '../model/index.js';
import { lostWith, STALLED_REASON, workerLostReason } from './lost-workers.js';
import type { TaskRecord } from './task-record.js';
import { waitingNote } from './waiting-note.js';
import type { FleetFacts } from './worker-registry.js';

/** A task as `list`, `wait` and `logs` show it: the record with its status derived from every source. */
export interface TaskView extends Omit<TaskRecord, 'cancelRequested'> {
  status: TaskStatus;
  /** What a QUEUED task waits for (see {@link waitingNote}); undefined otherwise. */
  note: string | undefined;
}

/** BullMQ's job states, plus `unknown` for a job that does not exist. */
export type JobState = 'waiting' | 'active' | 'completed' | 'failed' | 'delayed' | 'prioritized' | 'waiting-children' | 'unknown';

/** What the queue knows about a task besides its record. Unset fields were not looked up. */
export interface QueueFacts {
  jobState?: JobState;
  /** BullMQ's reason for a failed job. */
  failedReason?: string;
  /** Whether the heartbeat of `record.worker` is still there. */
  workerAlive?: boolean;
  /** The live workers and the labels served lately (looked up only for QUEUED tasks that require labels). */
  fleet?: FleetFacts;
}

function failedJobReason(record: TaskRecord, reason: string | undefined): string {
  if (reason === undefined || reason === '') return 'failed in the queue without a reason';
  return reason.includes(STALLED_REASON) ? workerLostReason(record.worker) : reason;
}

/**
 * The one rule that turns a record plus queue facts into a status, so `list`, `wait` and `logs` agree:
 * - a terminal status in the record is final (whoever ended the task wrote it, and first writer wins);
 * - a RUNNING task whose worker's heartbeat is gone is FAILED "worker <name> lost" ({@link lostWith}),
 *   even before a live worker gets round to recording that;
 * - a job BullMQ failed (stalled, invalid payload) is FAILED with its reason (a DELAYED task's too: its
 *   worker died between recording the delay and moving the job);
 * - a DELAYED task has no worker, so it is never lost; it stays DELAYED (until `delayedUntil`) until a
 *   worker claims it again;
 * - a QUEUED task stays QUEUED until a worker claims it, even while a worker holds its job (that worker
 *   may hand it back: it lacks a label, the repository, or is stopping);
 * - a task still QUEUED says what it waits for ({@link waitingNote}).
 */
export function deriveTaskView(record: TaskRecord, facts: QueueFacts): TaskView {
  const view = deriveStatus(record, facts);
  return { ...view, note: view.status === 'QUEUED' ? waitingNote(record.requires, record.note, facts.fleet) : undefined };
}

function deriveStatus(record: TaskRecord, facts: QueueFacts): TaskView {
  const { cancelRequested: _ignored, ...view } = { ...record, note: undefined };
  if (isTerminal(record.status) || record.status === 'WAITING') return view;
  const failed = (error: string): TaskView => ({ ...view, status: 'FAILED', error });
  const lost = lostWith(record, () => facts.workerAlive);
  if (lost !== undefined) return failed(workerLostReason(lost));
  if (facts.jobState === 'failed') return failed(failedJobReason(record, facts.failedReason));
  return view;
}

/** Milliseconds a task has run (so far), or undefined when it never started. */
export function taskDurationMs(task: Pick<TaskView, 'startedAt' | 'finishedAt' | 'status'>, now: Date = new Date()): number | undefined {
  if (task.startedAt === undefined) return undefined;
  const end = task.finishedAt !== undefined ? Date.parse(task.finishedAt) : task.status === 'RUNNING' ? now.getTime() : undefined;
  if (end === undefined) return undefined;
  return Math.max(0, end - Date.parse(task.startedAt));
}
