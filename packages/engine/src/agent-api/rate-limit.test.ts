import { describe, expect, it } from 'vitest';
import { MAX_RATE_LIMIT_WAIT_MS, rateLimitReset } from './rate-limit.js';

const now = Date.parse('2026-12-02T12:00:00Z');

describe('rateLimitReset', () => {
  it('should read retry-after in seconds and as an HTTP date', () => {
    expect(rateLimitReset({ 'retry-after': '30' }, '', now)).toBe(now + 30_000);
    expect(rateLimitReset({ 'retry-after': 'Wed, 02 Dec 2026 12:10:00 GMT' }, '', now)).toBe(now + 600_000);
  });

  it('should read Anthropic subscription (epoch seconds) and API-key (RFC 3339) resets, taking the latest', () => {
    const headers = { 'anthropic-ratelimit-unified-reset': String(now / 1000 + 3600), 'anthropic-ratelimit-tokens-reset': '2026-12-02T12:05:00Z' };
    expect(rateLimitReset(headers, '', now)).toBe(now + 3_600_000);
  });

  it('should read OpenAI reset durations and the ChatGPT usage-limit body', () => {
    expect(rateLimitReset({ 'x-ratelimit-reset-requests': '6m0s', 'x-ratelimit-reset-tokens': '20ms' }, '', now)).toBe(now + 360_000);
    expect(rateLimitReset({}, JSON.stringify({ error: { type: 'usage_limit_reached', resets_in_seconds: 120 } }), now)).toBe(now + 120_000);
  });

  it('should wait a minute when nothing says when, and never believe a reset beyond a day', () => {
    expect(rateLimitReset({}, 'Too Many Requests', now)).toBe(now + 60_000);
    expect(rateLimitReset({ 'retry-after': String(365 * 86_400) }, '', now)).toBe(now + MAX_RATE_LIMIT_WAIT_MS);
    expect(rateLimitReset({ 'retry-after': '-5' }, '', now)).toBe(now + 60_000);
    expect(rateLimitReset({ 'retry-after': '0' }, '', now)).toBe(now + 1000);
  });
});
