import { isCommitHash } from '../git/git-values.js';
import { isTerminal, isWorkerLabel, LABEL_LIMITS, TASK_STATUSES, type AgentUsage, type TaskStatus } from '../model/index.js';
import { verifyResult, type KeyRing, type ResultClaim, type SignedTask } from '../signing/index.js';

/**
 * What Redis holds about one task (a hash). The signed job is stored whole (field `job`), and the fields
 * `list` shows are stored beside it so that listing 1,000 tasks never parses 1,000 specs. Anyone with
 * write access to the Redis can rewrite any of it: only the signed job is checked (by signature), every
 * other field is data to validate, never to trust.
 */
export interface TaskRecord {
  id: string;
  status: TaskStatus;
  name: string;
  type: string;
  agent: string;
  stack: string;
  project: string;
  parent: string | undefined;
  createdAt: string;
  /** Queue worker that claimed the task last. */
  worker: string | undefined;
  startedAt: string | undefined;
  finishedAt: string | undefined;
  /** Result branch, only when the task produced changes. */
  branch: string | undefined;
  commit: string | undefined;
  error: string | undefined;
  summary: string | undefined;
  /** `tsk cancel` asked the worker running this task to stop it. */
  cancelRequested: boolean;
  /** The task runs without network isolation (`--no-network-isolation`). */
  noNetworkIsolation: boolean;
  /** Who queued it: the name of the key that signed it, as the producer wrote it (for display). */
  signer: string | undefined;
  /** The commit the task started from, once a worker made its workspace. */
  baseCommit: string | undefined;
  /** Worker labels the task requires (copied from the spec for display; workers go by the signed spec). */
  requires: string[];
  /** Why the last worker that handed the task's job back could not take it (QUEUED tasks only). */
  note: string | undefined;
  /** The signature of the worker that ran it over its result (see `signing/signed-result.ts`). */
  resultSignature: string | undefined;
  /** That worker's public key. */
  resultSigner: string | undefined;
  /** The shared remote the task travels through (its result goes to `refs/tsk/results/<id>` there), for display. */
  remote: string | undefined;
  /** When a DELAYED task (rate limited) may run again (ISO); undefined otherwise or when not a valid time. */
  delayedUntil: string | undefined;
  /** How many times the task went back to the queue rate limited (0 when it never did). */
  delays: number;
  /** What the agent spent (cost in US dollars, tokens), as its worker recorded it. */
  usage: AgentUsage;
}

/** The hash fields that {@link recordFromHash} reads (everything but the spec). */
export const RECORD_FIELDS = [
  'id', 'status', 'name', 'type', 'agent', 'stack', 'project', 'parent', 'createdAt', 'worker',
  'startedAt', 'finishedAt', 'branch', 'commit', 'error', 'summary', 'cancelRequested', 'noNetworkIsolation', 'requires', 'note',
  'signer', 'baseCommit', 'resultSignature', 'resultSigner', 'remote', 'delayedUntil', 'delays', 'costUsd', 'inputTokens', 'outputTokens',
] as const;

/** The fields written when a task is added. */
export function hashForNewTask({ spec, job }: SignedTask, status: 'QUEUED' | 'WAITING'): Record<string, string> {
  const fields: Record<string, string> = {
    id: spec.id,
    status,
    name: spec.name,
    type: spec.type,
    agent: spec.agent,
    stack: spec.stack,
    project: spec.project,
    createdAt: spec.createdAt,
    signer: spec.signer.name,
    job: JSON.stringify(job),
  };
  if (spec.parentTaskId !== undefined) fields.parent = spec.parentTaskId;
  if (spec.requires !== undefined && spec.requires.length > 0) fields.requires = spec.requires.join(',');
  if (!spec.config.networkIsolation) fields.noNetworkIsolation = '1';
  if (spec.source.kind === 'remote') fields.remote = spec.source.url;
  return fields;
}

function isStatus(value: string | null | undefined): value is TaskStatus {
  return value !== null && value !== undefined && (TASK_STATUSES as readonly string[]).includes(value);
}

/**
 * A record from the values of {@link RECORD_FIELDS} in order (HMGET), or undefined when the task does
 * not exist (or the hash is not a task).
 */
export function recordFromHash(values: readonly (string | null)[]): TaskRecord | undefined {
  const get = (field: (typeof RECORD_FIELDS)[number]): string | undefined => values[RECORD_FIELDS.indexOf(field)] ?? undefined;
  const id = get('id');
  const status = get('status');
  if (id === undefined || !isStatus(status)) return undefined;
  return {
    id,
    status,
    name: get('name') ?? '',
    type: get('type') ?? '',
    agent: get('agent') ?? '',
    stack: get('stack') ?? '',
    project: get('project') ?? '',
    parent: get('parent'),
    createdAt: get('createdAt') ?? '',
    worker: get('worker'),
    startedAt: get('startedAt'),
    finishedAt: get('finishedAt'),
    branch: get('branch'),
    commit: get('commit'),
    error: get('error'),
    summary: get('summary'),
    cancelRequested: get('cancelRequested') === '1',
    noNetworkIsolation: get('noNetworkIsolation') === '1',
    signer: get('signer'),
    baseCommit: get('baseCommit'),
    requires: [...new Set((get('requires') ?? '').split(','))].filter(isWorkerLabel).slice(0, LABEL_LIMITS.count),
    note: get('note'),
    resultSignature: get('resultSignature'),
    resultSigner: get('resultSigner'),
    remote: get('remote'),
    delayedUntil: isoTime(get('delayedUntil')),
    delays: count(get('delays')),
    usage: usageOf(get('costUsd'), get('inputTokens'), get('outputTokens')),
  };
}

/** Above this, a recorded cost or token count is not one (records are data: no 300-digit cost column). */
const USAGE_MAX = 1e12;

/** Cost and tokens as recorded: finite, non-negative numbers up to {@link USAGE_MAX}, or left out (records are data). */
function usageOf(cost: string | undefined, input: string | undefined, output: string | undefined): AgentUsage {
  const number = (value: string | undefined): number | undefined => {
    if (value === undefined || value.length > 30) return undefined;
    const parsed = Number(value);
    return Number.isFinite(parsed) && parsed >= 0 && parsed <= USAGE_MAX ? parsed : undefined;
  };
  const usage: AgentUsage = {};
  const costUsd = number(cost);
  const inputTokens = number(input);
  const outputTokens = number(output);
  if (costUsd !== undefined) usage.costUsd = costUsd;
  if (inputTokens !== undefined) usage.inputTokens = Math.round(inputTokens);
  if (outputTokens !== undefined) usage.outputTokens = Math.round(outputTokens);
  return usage;
}

/** A time as the queue writes it (ISO), or undefined for anything else (records are data). */
function isoTime(value: string | undefined): string | undefined {
  if (value === undefined || value.length > 40 || Number.isNaN(Date.parse(value))) return undefined;
  return new Date(value).toISOString();
}

/** A small count as the queue writes it; anything else is 0. */
function count(value: string | undefined): number {
  return value !== undefined && /^[0-9]{1,6}$/.test(value) ? Number(value) : 0;
}

/**
 * The result a record claims, when the worker that ran the task signed it with a key of `ring` and its
 * commits are full hashes; undefined otherwise. What a chained task starts from and a retry starts at.
 */
export function verifiedResult(record: TaskRecord, ring: KeyRing): ResultClaim | undefined {
  if (!isTerminal(record.status) || record.baseCommit === undefined || !isCommitHash(record.baseCommit)) return undefined;
  if (record.commit !== undefined && !isCommitHash(record.commit)) return undefined;
  const claim: ResultClaim = {
    taskId: record.id,
    status: record.status as ResultClaim['status'],
    baseCommit: record.baseCommit,
    commit: record.commit,
    branch: record.branch,
  };
  return verifyResult(claim, { signature: record.resultSignature, signer: record.resultSigner }, ring) === undefined ? undefined : claim;
}
