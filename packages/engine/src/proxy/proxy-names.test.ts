import { describe, expect, it } from 'vitest';
import { inLockDomain } from './proxy-names.js';
import { lockDomain } from './task-owner.js';

describe('inLockDomain', () => {
  it("should tell one lock domain's proxy objects from another's by the tsk.locks label", () => {
    expect(inLockDomain({ 'tsk.proxy': 'abc', 'tsk.locks': 'd1' }, 'd1')).toBe(true);
    expect(inLockDomain({ 'tsk.proxy': 'abc', 'tsk.locks': 'd2' }, 'd1')).toBe(false);
  });

  it('should count objects from before proxies had a lock domain (no label) as the current domain’s', () => {
    expect(inLockDomain({ 'tsk.proxy': 'abc' }, 'd1')).toBe(true);
    expect(inLockDomain(undefined, 'd1')).toBe(true);
  });
});

describe('lockDomain', () => {
  it('should differ between users and between lock folders of one user', () => {
    expect(lockDomain('/home/a/.local/share/tsk/locks', 1000)).toBe(lockDomain('/home/a/.local/share/tsk/locks', 1000));
    expect(lockDomain('/home/a/.local/share/tsk/locks', 1000)).not.toBe(lockDomain('/home/a/.local/share/tsk/locks', 1001));
    expect(lockDomain('/home/a/.local/share/tsk/locks', 1000)).not.toBe(lockDomain('/srv/tsk-locks', 1000));
  });
});
