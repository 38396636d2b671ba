import { describe, expect, it } from 'vitest';
import { formatWorkerEvent } from './worker-events.js';
import { resolveTiming } from './worker-timing.js';

describe('formatWorkerEvent', () => {
  it('prints one line per task event', () => {
    expect(formatWorkerEvent({ kind: 'started', task: 'Abc_1234', name: 'n', type: 'feat', agent: 'claude', rerun: false })).toBe(
      'Abc_1234 started (n, feat, claude)',
    );
    expect(formatWorkerEvent({ kind: 'finished', task: 'Abc_1234', status: 'COMPLETE', branch: 'tsk/feat/n/Abc_1234', error: undefined, durationMs: 83_000 })).toBe(
      'Abc_1234 COMPLETE after 1m23s: branch tsk/feat/n/Abc_1234',
    );
    expect(formatWorkerEvent({ kind: 'lost', task: 'Abc_1234', worker: 'h-1-ab', requeued: false })).toBe('Abc_1234 FAILED: worker h-1-ab lost');
    expect(formatWorkerEvent({ kind: 'reaped', what: 'container', name: 'tsk-Abc_1234', worker: 'h-1-ab' })).toBe(
      'removed container tsk-Abc_1234 left by lost worker h-1-ab',
    );
    expect(formatWorkerEvent({ kind: 'handed-back', task: 'Abc_1234', reason: 'waiting for a worker with label gpu' })).toBe(
      'Abc_1234 left to another worker (waiting for a worker with label gpu)',
    );
    expect(formatWorkerEvent({ kind: 'delayed', task: 'Abc_1234', until: '2025-05-01T14:05:00.000Z', delays: 2 })).toBe(
      'Abc_1234 rate limited: back in the queue until 2025-05-01T14:05:00.000Z (delay 2)',
    );
  });

  it('prints what Redis and agents wrote as one line without terminal control', () => {
    const finished = { kind: 'finished', task: 'Abc_1234', status: 'FAILED', branch: undefined, durationMs: 1000 } as const;
    expect(formatWorkerEvent({ ...finished, error: 'Agent said \x1b]0;pwned\x07\x1b[2Jno\r\nAbc_0000 COMPLETE' })).toBe(
      'Abc_1234 FAILED after 1s: Agent said no Abc_0000 COMPLETE',
    );
    expect(formatWorkerEvent({ kind: 'lost', task: 'Abc_1234', worker: 'h\u202e-1', requeued: true })).toBe('Abc_1234 re-queued: worker h-1 lost');
  });
});

describe('resolveTiming', () => {
  it('fills defaults and rejects a heartbeat that would expire between beats', () => {
    expect(resolveTiming({ reapIntervalMs: 100 }).reapIntervalMs).toBe(100);
    expect(() => resolveTiming({ heartbeatIntervalMs: 5000, heartbeatTtlMs: 6000 })).toThrow('heartbeatTtlMs must be more than twice heartbeatIntervalMs');
    expect(() => resolveTiming({ lockDurationMs: 0 })).toThrow('lockDurationMs must be a positive number of milliseconds');
  });
});
