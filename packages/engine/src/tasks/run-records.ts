import { constants, existsSync } from 'node:fs';
import { mkdir, open, readdir } from 'node:fs/promises';
import { hostname } from 'node:os';
import { isAbsolute, join, posix } from 'node:path';
import { writeFileAtomic } from '../common/atomic-file.js';
import { errorCode } from '../common/error-code.js';
import { isTaskId } from '../common/ids.js';
import { processAlive } from '../common/process-alive.js';
import { isResultBranch } from '../common/sanitize.js';
import { InputError } from '../errors/index.js';
import { isBranchName, isCommitHash } from '../git/git-values.js';
import { isAgentName, TASK_LIMITS, type AgentName, type AgentUsage, type TaskResult, type TaskSpec, type TaskStatus } from '../model/index.js';
import type { TaskView } from '../queue/index.js';
import type { SessionOptions } from '../runner/agent-session.js';

/**
 * What `tsk run` keeps of a task it ran, so that it can be followed up (`--follow-up <id>`) and listed
 * (`tsk list`): one small JSON file per task under `<dataDir>/runs/`. Queued tasks have their record in
 * Redis instead.
 */
export interface RunRecord {
  version: 1;
  id: string;
  name: string;
  type: string;
  agent: AgentName;
  /** The origin repository (main work tree) the task ran on and its result went to. */
  repoPath: string;
  /** RUNNING while `tsk run` (process `pid` on `host`) runs it. */
  status: Extract<TaskStatus, 'RUNNING' | 'COMPLETE' | 'FAILED' | 'CANCELLED'>;
  instructions: string;
  /** Where the result is: the task's own branch, or the earlier task's when a follow-up fast-forwarded it. */
  branch: string | undefined;
  commit: string | undefined;
  baseCommit: string | undefined;
  summary: string | undefined;
  error: string | undefined;
  /** The task this one followed up. */
  followUpOf: string | undefined;
  /** The agent's own session id (Claude's `session_id`), when it reported one. */
  agentSessionId: string | undefined;
  /** What the agent spent (cost, tokens), when it said. */
  usage?: AgentUsage;
  createdAt: string;
  startedAt: string | undefined;
  finishedAt: string | undefined;
  pid: number;
  host: string;
}

/** A record file is at most this big (instructions are bounded by `TASK_LIMITS.instructionsBytes`). */
export const RUN_RECORD_MAX_BYTES = TASK_LIMITS.instructionsBytes + 64 * 1024;
/** `tsk list` shows at most this many of them, the newest. */
const LIST_MAX = 500;

const TEXT_MAX = 16 * 1024;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z$/;
const SESSION_ID = /^[A-Za-z0-9_-]{1,128}$/;
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const FIELDS = [
  'version', 'id', 'name', 'type', 'agent', 'repoPath', 'status', 'instructions', 'branch', 'commit', 'baseCommit', 'summary', 'error',
  'followUpOf', 'agentSessionId', 'usage', 'createdAt', 'startedAt', 'finishedAt', 'pid', 'host',
];
const USAGE_FIELDS = ['costUsd', 'inputTokens', 'outputTokens'];
const RUN_STATUSES = ['RUNNING', 'COMPLETE', 'FAILED', 'CANCELLED'] as const;

type Json = Record<string, unknown>;

const optional = (value: unknown, check: (value: unknown) => boolean): boolean => value === undefined || check(value);
const isLabel = (value: unknown): boolean => typeof value === 'string' && value.trim() !== '' && value.length <= TASK_LIMITS.labelChars && !CONTROL.test(value);
const isText = (value: unknown): boolean => typeof value === 'string' && value.length <= TEXT_MAX;
const isTime = (value: unknown): boolean => typeof value === 'string' && ISO_TIME.test(value) && !Number.isNaN(Date.parse(value));
const isCleanPath = (value: unknown): boolean =>
  typeof value === 'string' && value.length <= TASK_LIMITS.pathChars && isAbsolute(value) && posix.normalize(value) === value && !CONTROL.test(value);

const isUsage = (value: unknown): boolean =>
  typeof value === 'object' &&
  value !== null &&
  !Array.isArray(value) &&
  Object.entries(value).every(([key, count]) => USAGE_FIELDS.includes(key) && typeof count === 'number' && Number.isFinite(count) && count >= 0 && count <= 1e12);

/**
 * Why a record file's content is not a run record of task `id`, or undefined. The file is the user's,
 * but anything that can write there could make a follow-up start from, or move, what it names: every
 * field is checked, the branch must be a tsk result branch, commits full hashes.
 */
function recordProblem(value: unknown, id: string): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object';
  const record = value as Json;
  const unknown = Object.keys(record).find((key) => !FIELDS.includes(key));
  if (unknown !== undefined) return `unknown field ${unknown.slice(0, 40)}`;
  if (record.version !== 1) return 'version must be 1';
  if (record.id !== id) return `id must be ${id} (the file's name)`;
  if (!isLabel(record.name) || !isLabel(record.type)) return 'name and type must be short labels';
  if (typeof record.agent !== 'string' || !isAgentName(record.agent)) return 'agent must be an agent name';
  if (!isCleanPath(record.repoPath)) return 'repoPath must be an absolute, normalised path';
  if (!(RUN_STATUSES as readonly unknown[]).includes(record.status)) return 'status must be RUNNING, COMPLETE, FAILED or CANCELLED';
  if (typeof record.instructions !== 'string' || Buffer.byteLength(record.instructions) > TASK_LIMITS.instructionsBytes) return 'instructions must be a string within the task limit';
  if (!optional(record.branch, (branch) => typeof branch === 'string' && isBranchName(branch) && isResultBranch(branch))) return 'branch must be a tsk result branch tsk/<type>/<name>/<id>';
  for (const key of ['commit', 'baseCommit']) if (!optional(record[key], isCommitHash)) return `${key} must be a full commit hash`;
  if ((record.branch === undefined) !== (record.commit === undefined)) return 'branch and commit go together';
  for (const key of ['summary', 'error']) if (!optional(record[key], isText)) return `${key} must be a string of at most ${TEXT_MAX} characters`;
  if (!optional(record.followUpOf, (other) => typeof other === 'string' && isTaskId(other) && other !== id)) return 'followUpOf must be another task id';
  if (!optional(record.agentSessionId, (session) => typeof session === 'string' && SESSION_ID.test(session))) return 'agentSessionId must be an agent session id';
  if (!optional(record.usage, isUsage)) return 'usage must be { costUsd, inputTokens, outputTokens } of numbers of 0 or more';
  if (!isTime(record.createdAt)) return 'createdAt must be an ISO time';
  for (const key of ['startedAt', 'finishedAt']) if (!optional(record[key], isTime)) return `${key} must be an ISO time`;
  if (!Number.isInteger(record.pid) || (record.pid as number) <= 0) return 'pid must be a process id';
  if (!isLabel(record.host)) return 'host must be a host name';
  return undefined;
}

/** The record of a task `tsk run` is about to run. */
export function startedRunRecord(spec: TaskSpec): RunRecord {
  return {
    version: 1,
    id: spec.id,
    name: spec.name,
    type: spec.type,
    agent: spec.agent,
    repoPath: spec.repoPath,
    status: 'RUNNING',
    instructions: spec.instructions,
    branch: undefined,
    commit: undefined,
    baseCommit: undefined,
    summary: undefined,
    error: undefined,
    followUpOf: spec.followUp?.taskId,
    agentSessionId: undefined,
    createdAt: spec.createdAt,
    startedAt: new Date().toISOString(),
    finishedAt: undefined,
    pid: process.pid,
    host: hostname().slice(0, TASK_LIMITS.labelChars) || 'localhost',
  };
}

/** The record of a task `tsk run` ran, from how it ended. */
export function endedRunRecord(started: RunRecord, result: TaskResult, agentSessionId?: string): RunRecord {
  const cut = (text: string | undefined) => text?.slice(0, TEXT_MAX);
  const branch = result.branch !== undefined && result.commit !== undefined ? result.branch : undefined;
  return {
    ...started,
    status: result.status,
    branch,
    commit: branch === undefined ? undefined : result.commit,
    baseCommit: result.baseCommit,
    summary: cut(result.summary),
    error: cut(result.error),
    agentSessionId: agentSessionId !== undefined && SESSION_ID.test(agentSessionId) ? agentSessionId : undefined,
    ...(result.usage === undefined ? {} : { usage: result.usage }),
    startedAt: result.startedAt,
    finishedAt: result.finishedAt,
  };
}

/**
 * The run records under `<dataDir>/runs/`: written atomically (a private temporary file renamed over the
 * old one), read back as hostile (regular files only, never through a symbolic link, size-bounded,
 * validated).
 */
export class RunRecords {
  readonly dir: string;

  constructor(dataDir: string) {
    this.dir = join(dataDir, 'runs');
  }

  private file(id: string): string {
    // The id becomes a file name.
    if (!isTaskId(id)) throw new InputError(`invalid task id "${id.slice(0, 40)}": expected 8 characters of [A-Za-z0-9_]`);
    return join(this.dir, `${id}.json`);
  }

  /** Where the agent's session transcript of task `id` is kept, when its agent keeps one (see `runner/agent-session.ts`). */
  sessionTranscript(id: string): string {
    this.file(id); // checks the id
    return join(this.dir, `${id}.session.jsonl`);
  }

  /**
   * What `tsk run` asks of the agent's session for `spec`: keep its transcript here, and resume the
   * earlier task's session when it follows up one whose same agent kept its transcript.
   */
  sessionFor(spec: TaskSpec, earlier: { id: string; agent: string; agentSessionId: string | undefined } | undefined): SessionOptions {
    const keepTo = this.sessionTranscript(spec.id);
    if (earlier?.agentSessionId === undefined || earlier.agent !== spec.agent) return { keepTo };
    const transcriptFile = this.sessionTranscript(earlier.id);
    return existsSync(transcriptFile) ? { keepTo, resume: { sessionId: earlier.agentSessionId, transcriptFile } } : { keepTo };
  }

  async save(record: RunRecord): Promise<void> {
    const problem = recordProblem(JSON.parse(JSON.stringify(record)), record.id);
    if (problem !== undefined) throw new InputError(`run record of task ${record.id} is not valid: ${problem}`);
    const text = `${JSON.stringify(record, null, 2)}\n`;
    if (Buffer.byteLength(text) > RUN_RECORD_MAX_BYTES) throw new InputError(`run record of task ${record.id} is larger than ${RUN_RECORD_MAX_BYTES} bytes`);
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const target = this.file(record.id);
    await writeFileAtomic(target, text, { sync: true });
  }

  /**
   * The record of task `id`, or undefined when `tsk run` kept none. A RUNNING record whose process is gone
   * reads as FAILED. @throws InputError when the file is there but is no valid record of that task.
   */
  async read(id: string): Promise<RunRecord | undefined> {
    const path = this.file(id);
    let text: string;
    try {
      // O_NOFOLLOW: a symbolic link planted under the id is not followed to another file (ELOOP);
      // O_NONBLOCK: a FIFO there does not hang the open.
      const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch((error: unknown) => {
        if (errorCode(error) === 'ELOOP') throw new InputError(`run record ${path} is a symbolic link`, { hint: 'remove it; tsk writes regular files only' });
        throw error;
      });
      try {
        const stat = await handle.stat();
        if (!stat.isFile()) throw new InputError(`run record ${path} is not a regular file`, { hint: 'remove it' });
        if (stat.size > RUN_RECORD_MAX_BYTES) throw new InputError(`run record ${path} is larger than ${RUN_RECORD_MAX_BYTES} bytes`, { hint: 'remove it' });
        text = await handle.readFile('utf8');
      } finally {
        await handle.close();
      }
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return undefined;
      throw error;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new InputError(`run record ${path} is not valid JSON`, { hint: 'remove it' });
    }
    const problem = recordProblem(parsed, id);
    if (problem !== undefined) throw new InputError(`run record ${path} is not valid: ${problem}`, { hint: 'remove it; it was not written by tsk' });
    return liveStatus(parsed as RunRecord);
  }

  /** Every valid record, oldest first (at most the newest {@link LIST_MAX}); invalid files are skipped and named in `skipped`. */
  async list(): Promise<{ records: RunRecord[]; skipped: string[] }> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (error) {
      if (errorCode(error) === 'ENOENT' || errorCode(error) === 'ENOTDIR') return { records: [], skipped: [] };
      throw error;
    }
    const ids = names.filter((name) => name.endsWith('.json')).map((name) => name.slice(0, -'.json'.length)).filter(isTaskId);
    const records: RunRecord[] = [];
    const skipped: string[] = [];
    for (const id of ids) {
      const record = await this.read(id).catch(() => undefined);
      if (record === undefined) skipped.push(id);
      else records.push(record);
    }
    records.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    return { records: records.slice(-LIST_MAX), skipped };
  }
}

/** A RUNNING record of a `tsk run` on this host whose process is gone: it did not end by itself. */
function liveStatus(record: RunRecord): RunRecord {
  if (record.status !== 'RUNNING' || record.host !== (hostname().slice(0, TASK_LIMITS.labelChars) || 'localhost') || processAlive(record.pid)) return record;
  return { ...record, status: 'FAILED', error: `the tsk run process (${record.pid}) ended before the task did` };
}

/** A run record as `tsk list` shows tasks: its worker column says `(run)`. */
export function runRecordView(record: RunRecord): TaskView {
  const view = {
    id: record.id,
    status: record.status,
    name: record.name,
    type: record.type,
    agent: record.agent,
    stack: '',
    project: posix.basename(record.repoPath),
    parent: undefined,
    createdAt: record.createdAt,
    worker: '(run)',
    startedAt: record.startedAt,
    finishedAt: record.finishedAt,
    branch: record.branch,
    commit: record.commit,
    error: record.error,
    summary: record.summary,
    noNetworkIsolation: false,
    signer: undefined,
    baseCommit: record.baseCommit,
    requires: [],
    note: undefined,
    resultSignature: undefined,
    resultSigner: undefined,
    remote: undefined,
    // A rate-limited wait is a queue's: `tsk run` waits in its own process.
    delayedUntil: undefined,
    delays: 0,
  } satisfies Omit<TaskView, 'usage'>;
  return { ...view, usage: record.usage ?? {} } as TaskView;
}
