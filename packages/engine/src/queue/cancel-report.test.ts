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
    expect(cancelReport(task, { kind: 'stopping' }, { status: 'CANCELLED', error: 'Cancelled' })).toBe('Cancelled Abc_1234 (was running on box-1)');
    expect(cancelReport(task, { kind: 'stopping' }, { status: 'RUNNING', error: undefined })).toBe('Stopping Abc_1234: its worker has been told');
    expect(cancelReport(task, { kind: 'stopping' }, undefined)).toBe('Stopping Abc_1234: its worker has been told');
  });

  // Found by the chaos suite: a cancel that reached the worker while it collected the result of a finished
  // agent printed "Cancelled …" for a task that ended COMPLETE with its branch.
  it('says a running task that ended otherwise before its worker could stop it ended as it did, and why, not "Cancelled"', () => {
    expect(cancelReport(task, { kind: 'stopping' }, { status: 'COMPLETE', error: undefined })).toBe('Abc_1234 ended COMPLETE on box-1 before it could be cancelled: its agent had finished');
    expect(cancelReport({ id: 'Abc_1234', worker: undefined }, { kind: 'stopping' }, { status: 'FAILED', error: 'Agent exited with code 2' })).toBe(
      'Abc_1234 ended FAILED before it could be cancelled: Agent exited with code 2',
    );
    // Its worker was killed while the cancel waited: the lost-worker rule failed it.
    expect(cancelReport(task, { kind: 'stopping' }, { status: 'FAILED', error: 'worker box-1 lost' })).toBe('Abc_1234 ended FAILED on box-1 before it could be cancelled: worker box-1 lost');
  });

  it('prints no control characters from Redis', () => {
    expect(cancelReport({ id: 'Abc_1234', worker: 'box\x1b[31m-1' }, { kind: 'stopping' }, { status: 'CANCELLED', error: 'Cancelled' })).not.toMatch(/\x1b/);
  });
});
