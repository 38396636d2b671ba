import { describe, expect, it } from 'vitest';
import { parseDuration } from './duration.js';

describe('parseDuration', () => {
  it('reads s/m/h/d/w and, with a bare unit, a bare number; rejects anything else', () => {
    expect(parseDuration('45s')).toBe(45_000);
    expect(parseDuration('30m')).toBe(1_800_000);
    expect(parseDuration('1.5h')).toBe(5_400_000);
    expect(parseDuration('7d')).toBe(604_800_000);
    expect(parseDuration('1w')).toBe(604_800_000);
    expect(parseDuration('2', 'd')).toBe(172_800_000);
    expect(parseDuration('90')).toBeUndefined();
    expect(parseDuration('soon')).toBeUndefined();
    expect(parseDuration('-1d')).toBeUndefined();
  });
});
