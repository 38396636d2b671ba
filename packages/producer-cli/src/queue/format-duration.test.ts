import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from './format-duration.js';

describe('formatDuration', () => {
  it('is short enough for a table column', () => {
    expect(formatDuration(undefined)).toBe('-');
    expect(formatDuration(44_600)).toBe('45s');
    expect(formatDuration(187_000)).toBe('3m07s');
    expect(formatDuration(7_500_000)).toBe('2h05m');
  });
});

describe('parseDuration', () => {
  it('reads s/m/h/d/w, a bare number as days, and rejects anything else', () => {
    expect(parseDuration('30m')).toBe(1_800_000);
    expect(parseDuration('12h')).toBe(43_200_000);
    expect(parseDuration('7d')).toBe(604_800_000);
    expect(parseDuration('2')).toBe(172_800_000);
    expect(parseDuration('1w')).toBe(604_800_000);
    expect(parseDuration('soon')).toBeUndefined();
    expect(parseDuration('-1d')).toBeUndefined();
  });
});
