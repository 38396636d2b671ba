import { describe, expect, it } from 'vitest';
import { formatDuration } from './format-duration.js';

describe('formatDuration', () => {
  it('is short enough for a table column', () => {
    expect(formatDuration(undefined)).toBe('-');
    expect(formatDuration(44_600)).toBe('45s');
    expect(formatDuration(187_000)).toBe('3m07s');
    expect(formatDuration(7_500_000)).toBe('2h05m');
  });
});
