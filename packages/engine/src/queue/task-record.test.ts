import { describe, expect, it } from 'vitest';
import { RECORD_FIELDS, recordFromHash } from './task-record.js';

/** HMGET's answer for a hash holding `fields`. */
function hmget(fields: Record<string, string>): (string | null)[] {
  return RECORD_FIELDS.map((field) => fields[field] ?? null);
}

const base = { id: 'Abc_1234', status: 'COMPLETE', createdAt: '2026-01-01T00:00:00.000Z' };

describe('recordFromHash usage', () => {
  it('reads cost and tokens the worker recorded', () => {
    expect(recordFromHash(hmget({ ...base, costUsd: '0.4213', inputTokens: '1200', outputTokens: '80' }))?.usage).toEqual({ costUsd: 0.4213, inputTokens: 1200, outputTokens: 80 });
    expect(recordFromHash(hmget(base))?.usage).toEqual({});
  });

  it('leaves out what is not a count (records are data anyone with Redis access may write)', () => {
    const usage = recordFromHash(hmget({ ...base, costUsd: '1e308', inputTokens: '-5', outputTokens: '\u001b[31m9' }))?.usage;
    expect(usage).toEqual({});
  });
});
