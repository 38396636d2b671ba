import type { Redis } from 'ioredis';
import { isTaskId } from '../common/ids.js';
import { oneLine } from '../common/terminal-text.js';
import { isWorkerLabel, LABEL_LIMITS } from '../model/index.js';
import { WORKER_BEAT } from './lua-scripts.js';
import type { QueueKeys } from './queue-keys.js';

/** What a worker says about itself with every heartbeat. */
export interface WorkerReport {
  name: string;
  host: string;
  pid: number;
  /** Tasks it runs at once. */
  concurrency: number;
  /** Ids of the tasks it runs now. */
  running: string[];
  /** `[worker] labels`. */
  labels: string[];
  /** The tsk version it runs. */
  version: string;
  startedAt: string;
  /** It was told to stop: it takes no new task and finishes (or cancels) the ones it runs. */
  stopping: boolean;
}

/**
 * A live worker as `tsk workers` shows it. Everything but `name` and `lastBeat` is what the worker wrote
 * to Redis, checked field by field: a field that is missing or malformed is undefined (an older worker
 * reports only its pid), text is one line without terminal control, lists hold only valid entries.
 */
export interface WorkerInfo {
  name: string;
  host: string | undefined;
  pid: number | undefined;
  concurrency: number | undefined;
  running: string[];
  labels: string[];
  version: string | undefined;
  startedAt: string | undefined;
  /** When it last beat, by the Redis server's clock (ISO). */
  lastBeat: string | undefined;
  /** Milliseconds since then, by the same clock (so machines whose clocks differ agree). */
  sinceBeatMs: number | undefined;
  state: 'running' | 'stopping';
}

/** What the queue knows about the fleet at one moment: who is alive, and which labels were served lately. */
export interface FleetFacts {
  live: WorkerInfo[];
  /** Labels some worker had within {@link LABEL_SEEN_WINDOW_MS}. */
  labelsSeen: ReadonlySet<string>;
}

/** How far back "no worker with label gpu seen" looks. */
export const LABEL_SEEN_WINDOW_MS = 10 * 60_000;

/** Registry entries (worker names, labels) not seen for this long are forgotten. */
export const FORGET_WORKERS_AFTER_MS = 7 * 24 * 3600 * 1000;

/** Most tasks a report may list: more than any worker's concurrency. */
const MAX_RUNNING = 1024;
const MAX_TEXT = 253;

/**
 * A worker's name: it is recorded on tasks, labels sandboxes (`tsk.worker`) and names Redis keys, so it is
 * one short token without spaces or control characters.
 */
export const WORKER_NAME = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$/;

export function isWorkerName(value: string): boolean {
  return WORKER_NAME.test(value);
}

type Json = Record<string, unknown>;

function text(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const line = oneLine(value).trim().slice(0, MAX_TEXT);
  return line === '' ? undefined : line;
}

function integer(value: unknown, min: number, max: number): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max ? value : undefined;
}

function isoTime(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length > 40) return undefined;
  const time = Date.parse(value);
  return Number.isNaN(time) ? undefined : new Date(time).toISOString();
}

/**
 * A live worker from its heartbeat key's text and its registry score (ms, Redis clock), with `now` by the
 * same clock. The text is whatever anyone with access to Redis wrote: nothing is taken as it is.
 */
export function parseWorkerReport(name: string, reportText: string, beatMs: number | undefined, nowMs: number): WorkerInfo {
  let report: Json = {};
  try {
    const parsed: unknown = JSON.parse(reportText);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) report = parsed as Json;
  } catch {
    // Not JSON: a live worker all the same (its key exists), of which nothing else is known.
  }
  const list = (value: unknown, keep: (item: unknown) => item is string, max: number): string[] =>
    Array.isArray(value) ? [...new Set(value.slice(0, max).filter(keep))] : [];
  const beat = beatMs !== undefined && Number.isFinite(beatMs) ? beatMs : undefined;
  return {
    name,
    host: text(report.host),
    pid: integer(report.pid, 0, 2 ** 31),
    concurrency: integer(report.concurrency, 1, 1024),
    running: list(report.running, (item): item is string => typeof item === 'string' && isTaskId(item), MAX_RUNNING),
    labels: list(report.labels, isWorkerLabel, LABEL_LIMITS.count),
    version: text(report.version)?.slice(0, 64),
    startedAt: isoTime(report.startedAt),
    lastBeat: beat === undefined ? undefined : new Date(beat).toISOString(),
    sinceBeatMs: beat === undefined ? undefined : Math.max(0, nowMs - beat),
    state: report.stopping === true ? 'stopping' : 'running',
  };
}

/**
 * The registry of queue workers in Redis. Each worker's report lives in its heartbeat key, which expires
 * with the heartbeat: a dead worker drops out by itself. Beside it, two sorted sets scored by the Redis
 * server's clock (workers' clocks may differ): every worker name (what the reaper checks) and every label
 * served lately.
 */
export class WorkerRegistry {
  constructor(
    private readonly redis: Redis,
    private readonly keys: QueueKeys,
  ) {}

  /** Write a worker's report, alive for `ttlMs`; also forgets names and labels not seen for a week. */
  async beat(report: WorkerReport, ttlMs: number): Promise<void> {
    const { keys } = this;
    await this.redis.eval(
      WORKER_BEAT,
      3,
      keys.heartbeat(report.name),
      keys.workers,
      keys.labelsSeen,
      report.name,
      JSON.stringify({ v: 1, ...report }),
      String(Math.ceil(ttlMs)),
      String(FORGET_WORKERS_AFTER_MS),
      ...report.labels,
    );
  }

  /** A worker that stopped cleanly: gone from the registry, so it is never reaped. */
  async leave(name: string): Promise<void> {
    await this.redis.multi().del(this.keys.heartbeat(name)).zrem(this.keys.workers, name).exec();
  }

  /** Every live worker, by name. */
  async list(): Promise<WorkerInfo[]> {
    const [now, entries] = await Promise.all([this.now(), this.redis.zrange(this.keys.workers, 0, -1, 'WITHSCORES')]);
    const names: [string, number][] = [];
    for (let i = 0; i + 1 < entries.length; i += 2) {
      const name = entries[i] ?? '';
      if (isWorkerName(name)) names.push([name, Number(entries[i + 1])]);
    }
    if (names.length === 0) return [];
    const reports = await this.redis.mget(names.map(([name]) => this.keys.heartbeat(name)));
    const live: WorkerInfo[] = [];
    names.forEach(([name, score], index) => {
      const report = reports[index];
      if (report !== null && report !== undefined) live.push(parseWorkerReport(name, report, score, now));
    });
    return live.sort((a, b) => a.name.localeCompare(b.name));
  }

  /** The live workers and the labels served within {@link LABEL_SEEN_WINDOW_MS}. */
  async fleet(): Promise<FleetFacts> {
    const now = await this.now();
    const [live, seen] = await Promise.all([this.list(), this.redis.zrangebyscore(this.keys.labelsSeen, now - LABEL_SEEN_WINDOW_MS, '+inf')]);
    return { live, labelsSeen: new Set(seen.filter(isWorkerLabel)) };
  }

  /** Whether each worker's heartbeat exists. */
  async alive(names: Iterable<string>): Promise<Map<string, boolean>> {
    const list = [...new Set(names)];
    const alive = new Map<string, boolean>();
    if (list.length === 0) return alive;
    const pipeline = this.redis.pipeline();
    for (const name of list) pipeline.exists(this.keys.heartbeat(name));
    const replies = (await pipeline.exec()) ?? [];
    list.forEach((name, index) => alive.set(name, replies[index]?.[1] === 1));
    return alive;
  }

  /** Names of every queue worker seen within {@link FORGET_WORKERS_AFTER_MS}, dead or alive. */
  async names(): Promise<string[]> {
    const now = await this.now();
    await this.redis.zremrangebyscore(this.keys.workers, '-inf', now - FORGET_WORKERS_AFTER_MS);
    return this.redis.zrange(this.keys.workers, 0, -1);
  }

  /** The Redis server's clock, in ms. */
  private async now(): Promise<number> {
    const [seconds, micros] = await this.redis.time();
    return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
  }
}
