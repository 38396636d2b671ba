import type { WorkerInfo } from '@tsk/engine';
import { describe, expect, it } from 'vitest';
import { renderWorkerTable, summarizeWorkers, workerJson } from './worker-table.js';

function worker(overrides: Partial<WorkerInfo>): WorkerInfo {
  return {
    name: 'gpu-box-1',
    host: 'gpu-box',
    pid: 4242,
    concurrency: 2,
    running: ['Abc_1234'],
    labels: ['gpu'],
    version: '0.1.0',
    startedAt: '2025-06-01T11:00:00.000Z',
    lastBeat: '2025-06-01T12:00:08.000Z',
    sinceBeatMs: 2000,
    state: 'running',
    ...overrides,
  };
}

describe('tsk workers', () => {
  it('shows name, host, state, tasks of capacity, running ids, labels, version and the last beat, aligned', () => {
    const [header, first, second] = renderWorkerTable([worker({}), worker({ name: 'cpu-2', host: undefined, running: [], labels: [], concurrency: undefined, state: 'stopping', sinceBeatMs: 61_000 })]);
    expect(header?.split(/\s{2,}/)).toEqual(['Name', 'Host', 'State', 'Tasks', 'Running', 'Labels', 'Version', 'Last beat']);
    expect(first?.split(/\s{2,}/)).toEqual(['gpu-box-1', 'gpu-box', 'running', '1/2', 'Abc_1234', 'gpu', '0.1.0', '2s ago']);
    expect(second?.split(/\s{2,}/)).toEqual(['cpu-2', '-', 'stopping', '0/?', '-', '-', '0.1.0', '1m01s ago']);
    expect(header?.indexOf('State')).toBe(first?.indexOf('running'));
  });

  it('never prints terminal control a report could carry', () => {
    const [, row] = renderWorkerTable([worker({ host: 'h\x1b]0;x\x07\x1b[2J\u202e', version: '1\r\nforged' })]);
    expect(row).not.toMatch(/[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/);
    expect(row).toContain('1 forged');
  });

  it('sums the fleet up, and says how to start one when there is none', () => {
    expect(summarizeWorkers([])).toBe('No workers (start one with `tsk server start`)');
    expect(summarizeWorkers([worker({}), worker({ running: [], concurrency: 1, state: 'stopping' })])).toBe('2 workers: 1 of 3 task slots busy, 1 stopping');
  });

  it('gives scripts stable fields', () => {
    expect(workerJson(worker({}))).toEqual({
      name: 'gpu-box-1',
      host: 'gpu-box',
      pid: 4242,
      state: 'running',
      capacity: 2,
      runningCount: 1,
      running: ['Abc_1234'],
      labels: ['gpu'],
      version: '0.1.0',
      startedAt: '2025-06-01T11:00:00.000Z',
      lastHeartbeat: '2025-06-01T12:00:08.000Z',
      lastHeartbeatAgoMs: 2000,
    });
  });
});
