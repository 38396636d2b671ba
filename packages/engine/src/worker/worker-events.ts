import { oneLine } from '../common/terminal-text.js';
import type { TaskStatus } from '../model/index.js';

/** Everything a worker reports; the shells print each as one line ({@link formatWorkerEvent}). */
export type WorkerEvent =
  | { kind: 'ready'; worker: string; concurrency: number; redis: string; health: string | undefined }
  | { kind: 'started'; task: string; name: string; type: string; agent: string; rerun: boolean }
  | { kind: 'finished'; task: string; status: TaskStatus; branch: string | undefined; error: string | undefined; durationMs: number }
  | { kind: 'refused'; task: string; reason: string }
  | { kind: 'handed-back'; task: string; reason: string }
  /** Its agent was rate limited: back in the queue until `until` (ISO), its `delays`-th time. */
  | { kind: 'delayed'; task: string; until: string; delays: number }
  | { kind: 'cancelling'; task: string; reason: string }
  | { kind: 'lost'; task: string; worker: string; requeued: boolean }
  | { kind: 'reaped'; what: 'container' | 'workspace'; name: string; worker: string }
  | { kind: 'cleaned'; count: number }
  | { kind: 'stopping'; running: number; graceMs: number }
  | { kind: 'stopped'; worker: string }
  | { kind: 'error'; message: string };

function seconds(ms: number): string {
  const total = Math.round(ms / 1000);
  return total < 60 ? `${total}s` : `${Math.floor(total / 60)}m${String(total % 60).padStart(2, '0')}s`;
}

/**
 * One human-readable line per event (no timestamp: the shell adds one), safe to print on a terminal: task
 * names, errors and worker names come from Redis or an agent.
 */
export function formatWorkerEvent(event: WorkerEvent): string {
  return oneLine(describeEvent(event));
}

function describeEvent(event: WorkerEvent): string {
  switch (event.kind) {
    case 'ready': {
      const health = event.health ? `, health ${event.health}` : '';
      return `worker ${event.worker} ready: ${event.concurrency} task(s) at once on ${event.redis}${health}`;
    }
    case 'started':
      return `${event.task} ${event.rerun ? 're-started' : 'started'} (${event.name}, ${event.type}, ${event.agent})`;
    case 'finished': {
      const detail = event.branch ? `branch ${event.branch}` : (event.error ?? 'no changes');
      return `${event.task} ${event.status} after ${seconds(event.durationMs)}: ${detail}`;
    }
    case 'refused':
      return `${event.task} refused: ${event.reason}`;
    case 'handed-back':
      return `${event.task} left to another worker (${event.reason})`;
    case 'delayed':
      return `${event.task} rate limited: back in the queue until ${event.until} (delay ${event.delays})`;
    case 'cancelling':
      return `${event.task} cancelling (${event.reason})`;
    case 'lost':
      return `${event.task} ${event.requeued ? 're-queued' : 'FAILED'}: worker ${event.worker} lost`;
    case 'reaped':
      return `removed ${event.what} ${event.name} left by lost worker ${event.worker}`;
    case 'cleaned':
      return `auto-clean removed ${event.count} old task(s)`;
    case 'stopping':
      return event.running > 0
        ? `stopping: no new tasks; ${event.running} running task(s) get ${seconds(event.graceMs)} to finish`
        : 'stopping: no new tasks';
    case 'stopped':
      return `worker ${event.worker} stopped`;
    case 'error':
      return `error: ${event.message}`;
  }
}
