import { describe, expect, it } from 'vitest';
import { estimateMessageCost } from './claude-pricing.js';

describe('estimateMessageCost', () => {
  it('should price a message by its model family with cache writes and reads', () => {
    expect(estimateMessageCost('claude-sonnet-4-5-20250929', { input_tokens: 1_000_000, output_tokens: 100_000 })).toBeCloseTo(3 + 1.5);
    expect(estimateMessageCost('claude-opus-4-1', { input_tokens: 0, cache_creation_input_tokens: 1_000_000, cache_read_input_tokens: 1_000_000 })).toBeCloseTo(15 * 1.25 + 1.5);
    expect(estimateMessageCost('claude-haiku-4-5', { output_tokens: 1_000_000 })).toBeCloseTo(5);
  });

  it('should price an unknown model as the dearest family and ignore nonsense counts', () => {
    expect(estimateMessageCost('gpt-9', { input_tokens: 1_000_000 })).toBeCloseTo(15);
    expect(estimateMessageCost(undefined, { input_tokens: -5, output_tokens: Number.NaN })).toBe(0);
  });
});
