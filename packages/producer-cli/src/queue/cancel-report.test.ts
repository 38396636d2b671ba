import { describe, expect, it } from 'vitest';
import { cancelReport } from './cancel-report.js';

describe('cancelReport', () => {
  const task = { id: 'Abc_1234', worker: 'box-1' };

  it('says a queued task was cancelled, and an ended one had ended', () => {
    expect(cancelReport(task, { kind: 'cancelled' }, undefined)).toBe('Cancelled Abc_1234');
    expect(cancelReport(task, { kind: 'ended', status: 'COMPLETE' }, undefined)).toBe('Abc_1234 had already ended (COMPLETE)');
    expect(cancelReport(task, { kind: 'missing' }, undefined)).toBeUndefined();
  });

  it('says a running task was cancelled only when it ended CANCELLED', () => {
    expect(cancelReport(task, { kind: 'stopping' }, { status: 'CANCELLED' })).toBe('Cancelled Abc_1234 (was running on box-1)');
    expect(cancelReport(task, { kind: 'stopping' }, { status: 'RUNNING' })).toBe('Stopping Abc_1234: its worker has been told');
    expect(cancelReport(task, { kind: 'stopping' }, undefined)).toBe('Stopping Abc_1234: its worker has been told');
  });

  // Found by the chaos suite: a cancel that reached the worker while it collected the result of a finished
  // agent printed "Cancelled …" for a task that ended COMPLETE with its branch.
  it('says a running task that finished before its worker could stop it ended as it did, not "Cancelled"', () => {
    const completed = cancelReport(task, { kind: 'stopping' }, { status: 'COMPLETE' });
    expect(completed).toBe('Abc_1234 ended COMPLETE on box-1 before it could be cancelled (it had finished running)');
    expect(cancelReport({ id: 'Abc_1234', worker: undefined }, { kind: 'stopping' }, { status: 'FAILED' })).toBe('Abc_1234 ended FAILED before it could be cancelled (it had finished running)');
  });

  it('prints no control characters from Redis', () => {
    expect(cancelReport({ id: 'Abc_1234', worker: 'box\x1b[31m-1' }, { kind: 'stopping' }, { status: 'CANCELLED' })).not.toMatch(/\x1b/);
  });
});
