import { describe, expect, it } from 'vitest';
import { ownedByUid } from './proxy-names.js';

describe('ownedByUid', () => {
  it("should tell a user's proxy objects from another user's by the tsk.uid label", () => {
    expect(ownedByUid({ 'tsk.proxy': 'abc', 'tsk.uid': '1000' }, 1000)).toBe(true);
    expect(ownedByUid({ 'tsk.proxy': 'abc', 'tsk.uid': '1001' }, 1000)).toBe(false);
    expect(ownedByUid({ 'tsk.proxy': 'abc', 'tsk.uid': '0' }, 1000)).toBe(false);
  });

  it("should count objects from before proxies were per user (no label) as the current user's", () => {
    expect(ownedByUid({ 'tsk.proxy': 'abc' }, 1000)).toBe(true);
    expect(ownedByUid(undefined, 0)).toBe(true);
  });
});
