import { describe, expect, it } from 'vitest';
import type { TaskRecord } from './task-record.js';
import { STALLED_REASON } from './lost-workers.js';
import { deriveTaskView, taskDurationMs } from './task-view.js';
import type { WorkerInfo } from './worker-registry.js';

function record(overrides: Partial<TaskRecord> = {}): TaskRecord {
  return {
    id: 'Abc_1234',
    status: 'QUEUED',
    name: 'n',
    type: 'generic',
    agent: 'script',
    stack: 'default',
    project: 'p',
    parent: undefined,
    createdAt: '2025-01-01T00:00:00.000Z',
    worker: undefined,
    startedAt: undefined,
    finishedAt: undefined,
    branch: undefined,
    commit: undefined,
    error: undefined,
    summary: undefined,
    cancelRequested: false,
    noNetworkIsolation: false,
    signer: 'alice@laptop',
    baseCommit: undefined,
    resultSignature: undefined,
    resultSigner: undefined,
    usage: {},
    remote: undefined,
    requires: [],
    note: undefined,
    delayedUntil: undefined,
    delays: 0,
    ...overrides,
  };
}

describe('deriveTaskView', () => {
  it('keeps a recorded final status whatever BullMQ says', () => {
    const done = record({ status: 'COMPLETE', worker: 'w1' });
    expect(deriveTaskView(done, { jobState: 'failed', failedReason: 'x', workerAlive: false }).status).toBe('COMPLETE');
    expect(deriveTaskView(record({ status: 'CANCELLED' }), { jobState: 'active' }).status).toBe('CANCELLED');
  });

  it('shows a queued task as QUEUED while its job waits, even before the job exists', () => {
    for (const jobState of ['waiting', 'prioritized', 'delayed', 'unknown'] as const) {
      expect(deriveTaskView(record(), { jobState }).status).toBe('QUEUED');
    }
  });

  it('keeps a task QUEUED while a worker holds its job without having claimed it (it may hand it back)', () => {
    expect(deriveTaskView(record(), { jobState: 'active' }).status).toBe('QUEUED');
  });

  it('turns a RUNNING task whose worker heartbeat is gone into FAILED "worker <name> lost"', () => {
    const view = deriveTaskView(record({ status: 'RUNNING', worker: 'host-1-ab12' }), { jobState: 'active', workerAlive: false });
    expect(view).toMatchObject({ status: 'FAILED', error: 'worker host-1-ab12 lost' });
  });

  it('keeps a RUNNING task with a live worker RUNNING', () => {
    expect(deriveTaskView(record({ status: 'RUNNING', worker: 'w' }), { jobState: 'active', workerAlive: true }).status).toBe('RUNNING');
  });

  it('maps BullMQ failures to FAILED, a stalled job to its lost worker', () => {
    const stalled = deriveTaskView(record({ status: 'RUNNING', worker: 'w9' }), { jobState: 'failed', failedReason: STALLED_REASON });
    expect(stalled).toMatchObject({ status: 'FAILED', error: 'worker w9 lost' });
    const invalid = deriveTaskView(record(), { jobState: 'failed', failedReason: 'Job Abc_1234 is not a valid task: …' });
    expect(invalid).toMatchObject({ status: 'FAILED', error: 'Job Abc_1234 is not a valid task: …' });
  });

  it('never reports the internal cancel flag', () => {
    expect(deriveTaskView(record({ cancelRequested: true }), {})).not.toHaveProperty('cancelRequested');
  });

  it('leaves WAITING alone: it waits for its parent, not for BullMQ', () => {
    expect(deriveTaskView(record({ status: 'WAITING', parent: 'Par_0001' }), { jobState: 'unknown' }).status).toBe('WAITING');
  });
});

describe('what a queued task waits for', () => {
  const worker = (name: string, labels: string[]): WorkerInfo => ({
    name,
    host: 'h',
    pid: 1,
    concurrency: 1,
    running: [],
    labels,
    version: '0.1.0',
    startedAt: undefined,
    lastBeat: undefined,
    sinceBeatMs: 0,
    state: 'running',
  });
  const gpuTask = record({ requires: ['gpu'] });

  it('says no worker with the label was seen lately when none was', () => {
    const fleet = { live: [worker('cpu-1', [])], labelsSeen: new Set<string>() };
    expect(deriveTaskView(gpuTask, { jobState: 'delayed', fleet }).note).toBe('no worker with label gpu seen in the last 10 min');
    const two = record({ requires: ['gpu', 'cuda12'] });
    expect(deriveTaskView(two, { fleet: { live: [], labelsSeen: new Set(['gpu']) } }).note).toBe('no worker with label cuda12 seen in the last 10 min');
  });

  it('says it waits for a worker with the label when one is alive (busy) or was seen lately', () => {
    expect(deriveTaskView(gpuTask, { fleet: { live: [worker('gpu-1', ['gpu'])], labelsSeen: new Set(['gpu']) } }).note).toBe('waiting for a worker with label gpu');
    expect(deriveTaskView(gpuTask, { fleet: { live: [], labelsSeen: new Set(['gpu']) } }).note).toBe('waiting for a worker with label gpu');
  });

  it('shows the note of the worker that handed the job back, unless a label is nowhere to be seen', () => {
    const note = 'waiting for a worker on the machine that has /src/app';
    expect(deriveTaskView(record({ note }), { jobState: 'delayed' }).note).toBe(note);
    const both = record({ note, requires: ['gpu'] });
    expect(deriveTaskView(both, { fleet: { live: [worker('gpu-1', ['gpu'])], labelsSeen: new Set(['gpu']) } }).note).toBe(note);
    expect(deriveTaskView(both, { fleet: { live: [], labelsSeen: new Set() } }).note).toBe('no worker with label gpu seen in the last 10 min');
  });

  it('says nothing for a task that waits for nothing in particular, or no longer waits', () => {
    expect(deriveTaskView(record(), { jobState: 'waiting' }).note).toBeUndefined();
    expect(deriveTaskView(record({ status: 'RUNNING', worker: 'w', requires: ['gpu'], note: 'old' }), { jobState: 'active', workerAlive: true })).toMatchObject({ status: 'RUNNING', note: undefined });
    expect(deriveTaskView(record({ status: 'COMPLETE', requires: ['gpu'], note: 'old' }), {}).note).toBeUndefined();
  });
});

describe('taskDurationMs', () => {
  it('measures finished tasks to the end and running ones to now; tasks never started have none', () => {
    const startedAt = '2025-01-01T00:00:00.000Z';
    expect(taskDurationMs({ status: 'COMPLETE', startedAt, finishedAt: '2025-01-01T00:01:05.000Z' })).toBe(65_000);
    expect(taskDurationMs({ status: 'RUNNING', startedAt, finishedAt: undefined }, new Date('2025-01-01T00:00:10.000Z'))).toBe(10_000);
    expect(taskDurationMs({ status: 'QUEUED', startedAt: undefined, finishedAt: undefined })).toBeUndefined();
  });
});
