import { describe, expect, it } from 'vitest';
import { newTaskId, isTaskId } from './ids.js';
import { resultBranchName, sanitizeRefPart } from './sanitize.js';

describe('sanitizeRefPart', () => {
  it('should lowercase and replace anything outside [a-z0-9._-] with a dash', () => {
    expect(sanitizeRefPart('Dark Mode!')).toBe('dark-mode');
    expect(sanitizeRefPart('feat/ui:toggle')).toBe('feat-ui-toggle');
  });

  it('should collapse and trim dashes and dots', () => {
    expect(sanitizeRefPart('--a   b--')).toBe('a-b');
    expect(sanitizeRefPart('..x..y.')).toBe('x.y');
  });

  it('should never return an empty part', () => {
    expect(sanitizeRefPart('!!!')).toBe('task');
  });
});

describe('resultBranchName', () => {
  it('should build tsk/<type>/<name>/<id> from sanitised parts', () => {
    expect(resultBranchName('Feat', 'Add Login', 'Ab_12345')).toBe('tsk/feat/add-login/Ab_12345');
  });
});

describe('newTaskId', () => {
  it('should make 8-character ids of [A-Za-z0-9_] that never start with a dash', () => {
    const ids = Array.from({ length: 2000 }, () => newTaskId());
    for (const id of ids) {
      expect(id).toMatch(/^[A-Za-z0-9_]{8}$/);
      expect(isTaskId(id)).toBe(true);
    }
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('should reject ids of the wrong shape', () => {
    expect(isTaskId('-abcdefg')).toBe(false);
    expect(isTaskId('abc')).toBe(false);
  });
});
