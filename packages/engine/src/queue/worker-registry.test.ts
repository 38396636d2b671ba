import { describe, expect, it } from 'vitest';
import { isWorkerName, parseWorkerReport } from './worker-registry.js';

const NOW = Date.parse('2025-06-01T12:00:10.000Z');
const BEAT = Date.parse('2025-06-01T12:00:08.000Z');

describe('parseWorkerReport', () => {
  it('reads what a worker reports about itself', () => {
    const report = JSON.stringify({
      v: 1,
      name: 'gpu-box-1',
      host: 'gpu-box',
      pid: 4242,
      concurrency: 2,
      running: ['Abc_1234'],
      labels: ['gpu', 'cuda12'],
      version: '0.1.0',
      startedAt: '2025-06-01T11:00:00.000Z',
      stopping: false,
    });
    expect(parseWorkerReport('gpu-box-1', report, BEAT, NOW)).toEqual({
      name: 'gpu-box-1',
      host: 'gpu-box',
      pid: 4242,
      concurrency: 2,
      running: ['Abc_1234'],
      labels: ['gpu', 'cuda12'],
      version: '0.1.0',
      startedAt: '2025-06-01T11:00:00.000Z',
      lastBeat: '2025-06-01T12:00:08.000Z',
      sinceBeatMs: 2000,
      state: 'running',
    });
    expect(parseWorkerReport('w', JSON.stringify({ stopping: true }), BEAT, NOW).state).toBe('stopping');
  });

  it('keeps nothing of a hostile report but checked values: one line of text, valid ids and labels, sane numbers', () => {
    const hostile = JSON.stringify({
      host: 'box\x1b]0;pwned\x07\x1b[2J\r\nforged line\u202e',
      pid: -1,
      concurrency: 1e9,
      running: ['Abc_1234', '../../etc', 'Abc_1234', 7, 'x\x1bAbc_123'],
      labels: ['gpu', 'GPU', 'gpu\x1b[31m', 'a b', 'gpu'],
      version: `0.1.0\x9b31m${'v'.repeat(500)}`,
      startedAt: 'yesterday',
      stopping: 'yes',
    });
    const info = parseWorkerReport('w', hostile, BEAT, NOW);
    expect(info).toMatchObject({
      host: 'box forged line',
      pid: undefined,
      concurrency: undefined,
      running: ['Abc_1234'],
      labels: ['gpu'],
      startedAt: undefined,
      state: 'running',
    });
    expect(info.version).toMatch(/^0\.1\.0v+$/);
    expect(info.version?.length).toBeLessThanOrEqual(64);
    for (const value of [info.host, info.version]) expect(value).not.toMatch(/[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/);
  });

  it('lists a live worker whose report is not JSON or comes from an older tsk, with what is known', () => {
    expect(parseWorkerReport('old', JSON.stringify({ pid: 12, at: '2025-06-01T12:00:00.000Z' }), BEAT, NOW)).toMatchObject({
      name: 'old',
      pid: 12,
      host: undefined,
      running: [],
      labels: [],
      state: 'running',
    });
    expect(parseWorkerReport('junk', '\x1b[2J not json', undefined, NOW)).toMatchObject({ name: 'junk', lastBeat: undefined, sinceBeatMs: undefined });
    expect(parseWorkerReport('arr', '[1,2]', BEAT, NOW).labels).toEqual([]);
  });
});

describe('isWorkerName', () => {
  it('takes one short token, as names label sandboxes and Redis keys', () => {
    for (const name of ['host-1234-ab12', 'gpu.box_2', 'ci@runner:3']) expect(isWorkerName(name)).toBe(true);
    for (const name of ['', '-w', 'a b', 'w\x1b[2J', 'w\n', 'a'.repeat(129), 'w/../x']) expect(isWorkerName(name)).toBe(false);
  });
});
