import { describe, expect, it } from 'vitest';
import { isIdleReaper, parseReaperLease } from './reaper-lease.js';

describe('parseReaperLease', () => {
  it('should read a lease tsk wrote', () => {
    expect(parseReaperLease('{"pid":42,"host":"h","idleTimeoutMs":120000}')).toEqual({ pid: 42, host: 'h', idleTimeoutMs: 120000 });
  });

  it('should refuse anything else', () => {
    for (const text of ['', 'x', '{}', '{"pid":0,"host":"h","idleTimeoutMs":1}', '{"pid":1.5,"host":"h","idleTimeoutMs":1}', '{"pid":4,"idleTimeoutMs":1}', '{"pid":4,"host":"h"}']) {
      expect(parseReaperLease(text), text).toBeUndefined();
    }
  });
});

describe('isIdleReaper', () => {
  it('should not take a live process that is not the reaper for one', async () => {
    expect(await isIdleReaper(process.pid, 'abc123')).toBe(false);
  });

  it('should not take a pid no process has', async () => {
    expect(await isIdleReaper(2 ** 22 + 12345, 'abc123')).toBe(false);
  });
});
