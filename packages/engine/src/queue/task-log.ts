import type { Redis } from 'ioredis';
import { log as debug, type LogSink, type LogSource } from '../logging/index.js';
import type { QueueKeys } from './queue-keys.js';
import { LOG_MAXLEN } from './task-store.js';

/** One line of a task's log. */
export interface TaskLogEntry {
  /** Stream entry id (`<ms>-<seq>`). */
  id: string;
  source: LogSource;
  line: string;
}

const SOURCES: readonly string[] = ['tsk', 'build', 'agent', 'warn'];

/** A {@link LogSink} that appends to the task's capped Redis stream; `flush()` waits for every write. */
export interface TaskLogWriter extends LogSink {
  flush(): Promise<void>;
}

/** Lines sent to Redis in one round trip. */
const BATCH_LINES = 500;

/**
 * Appends to a task's stream. Lines go out in order, in batches on one connection: while a batch is on its
 * way the next lines wait here as strings, so a flood of short lines costs what its text costs, not a
 * pending Redis command each. A failed write is reported once through debug and never fails the task.
 */
export function taskLogWriter(redis: Redis, keys: QueueKeys, taskId: string): TaskLogWriter {
  const waiting: [source: LogSource, line: string][] = [];
  let sending: Promise<void> | undefined;
  let warned = false;
  const send = async (): Promise<void> => {
    while (waiting.length > 0) {
      const pipeline = redis.pipeline();
      for (const [source, line] of waiting.splice(0, BATCH_LINES)) {
        pipeline.xadd(keys.log(taskId), 'MAXLEN', '~', String(LOG_MAXLEN), '*', 's', source, 'l', line);
      }
      const replies = await pipeline.exec().catch((error: unknown) => [[error, null] as const]);
      const failure = replies?.find(([error]) => error)?.[0];
      if (failure && !warned) debug.queue('[%s] log write failed: %s', taskId, (failure as Error).message);
      warned ||= Boolean(failure);
    }
    sending = undefined;
  };
  return {
    write(source, line) {
      waiting.push([source, line]);
      sending ??= send();
    },
    async flush() {
      await sending;
    },
  };
}

type StreamEntries = [id: string, fields: string[]][];

/** Parse XRANGE/XREAD entries; stops (returns done) at the end-of-task marker. */
function parseEntries(entries: StreamEntries): { lines: TaskLogEntry[]; ended: boolean; lastId: string | undefined } {
  const lines: TaskLogEntry[] = [];
  let lastId: string | undefined;
  for (const [id, fields] of entries) {
    lastId = id;
    const source = fields[fields.indexOf('s') + 1] ?? 'tsk';
    const line = fields[fields.indexOf('l') + 1] ?? '';
    if (source === 'eof') return { lines, ended: true, lastId };
    lines.push({ id, source: SOURCES.includes(source) ? (source as LogSource) : 'tsk', line });
  }
  return { lines, ended: false, lastId };
}

/** Everything logged so far (up to the cap). */
export async function readTaskLog(redis: Redis, keys: QueueKeys, taskId: string): Promise<TaskLogEntry[]> {
  const entries = (await redis.xrange(keys.log(taskId), '-', '+')) as StreamEntries;
  return parseEntries(entries).lines;
}

/** The last `count` lines. */
export async function tailTaskLog(redis: Redis, keys: QueueKeys, taskId: string, count: number): Promise<TaskLogEntry[]> {
  const entries = (await redis.xrevrange(keys.log(taskId), '+', '-', 'COUNT', count + 1)) as StreamEntries;
  return parseEntries(entries.reverse().filter(([, fields]) => fields[fields.indexOf('s') + 1] !== 'eof')).lines.slice(-count);
}

export interface FollowTaskLogOptions {
  signal?: AbortSignal;
  /** Asked whenever the stream is quiet: true stops following (the task ended without a marker). */
  isFinished: () => Promise<boolean>;
  /** How long one XREAD blocks. @defaultValue 2000 */
  blockMs?: number;
}

/**
 * Lines as they are written, from the beginning, until the task's end marker (or `isFinished` when the
 * stream is quiet). Uses its own blocking connection, so it works from any machine that reaches Redis.
 */
export async function* followTaskLog(redis: Redis, keys: QueueKeys, taskId: string, options: FollowTaskLogOptions): AsyncGenerator<TaskLogEntry> {
  // XREAD BLOCK holds the connection: it must not be the one the caller uses for anything else.
  const reader = redis.duplicate();
  const abort = () => reader.disconnect();
  options.signal?.addEventListener('abort', abort, { once: true });
  let cursor = '0-0';
  try {
    while (!options.signal?.aborted) {
      const reply = (await reader.xread('COUNT', 500, 'BLOCK', options.blockMs ?? 2000, 'STREAMS', keys.log(taskId), cursor)) as
        | [key: string, entries: StreamEntries][]
        | null;
      const entries = reply?.[0]?.[1] ?? [];
      const { lines, ended, lastId } = parseEntries(entries);
      if (lastId !== undefined) cursor = lastId;
      yield* lines;
      if (ended) return;
      if (entries.length === 0 && (await options.isFinished())) {
        // Ended between the read and the check: take what was written meanwhile, without blocking.
        const rest = (await reader.xrange(keys.log(taskId), `(${cursor}`, '+')) as StreamEntries;
        yield* parseEntries(rest).lines;
        return;
      }
    }
  } catch (error) {
    if (!options.signal?.aborted) throw error;
  } finally {
    options.signal?.removeEventListener('abort', abort);
    reader.disconnect();
  }
}
