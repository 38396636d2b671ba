import { describe, expect, it } from 'vitest';
import { MAX_RATE_LIMIT_DELAY_MS, rateLimitedUntil, rateLimitGivingUp } from './rate-limit.js';

describe('rateLimitedUntil', () => {
  const now = Date.parse('2025-05-01T12:00:00.000Z');

  it('takes the reset time the API gave', () => {
    expect(rateLimitedUntil('2025-05-01T14:05:00Z', now).toISOString()).toBe('2025-05-01T14:05:00.000Z');
  });

  it('clamps a reset further than 24 h away, or in the past, and gives a minute for what is not a time', () => {
    expect(rateLimitedUntil('2030-01-01T00:00:00Z', now).getTime()).toBe(now + MAX_RATE_LIMIT_DELAY_MS);
    expect(rateLimitedUntil('2020-01-01T00:00:00Z', now).getTime()).toBe(now);
    expect(rateLimitedUntil('soon', now).getTime()).toBe(now + 60_000);
    expect(rateLimitedUntil(`2025-05-01T14:05:00Z${' '.repeat(100)}`, now).getTime()).toBe(now + 60_000);
  });

  it('says why it gives up', () => {
    expect(rateLimitGivingUp(5)).toBe('rate limited 5 times: giving up');
  });
});
