import { describe, expect, it } from 'vitest';
import { cliLayer } from './cli-overrides.js';

describe('cliLayer budgets', () => {
  it('should read --max-cost, --timeout and --max-turns', () => {
    expect(cliLayer({ maxCost: '2.50', timeout: '90m', maxTurns: 12 })).toMatchObject({ maxCostUsd: 2.5, timeoutSeconds: 5400, maxTurns: 12 });
    expect(cliLayer({ maxCost: '$3' }).maxCostUsd).toBe(3);
    expect(cliLayer({ timeout: '45s' }).timeoutSeconds).toBe(45);
    expect(cliLayer({ model: 'claude-sonnet-4-5' }).model).toBe('claude-sonnet-4-5');
  });

  it.each([
    [{ maxCost: 'lots' }, '--max-cost: expected an amount in US dollars greater than 0, got "lots"'],
    [{ maxCost: '0' }, '--max-cost: expected an amount in US dollars greater than 0, got "0"'],
    [{ timeout: '90' }, '--timeout: expected a duration such as 45s, 90m or 2h, got "90"'],
    [{ timeout: '0s' }, '--timeout: expected a duration such as 45s, 90m or 2h, got "0s"'],
    [{ maxTurns: 0 }, '--max-turns: expected a whole number of 1 or more, got "0"'],
    [{ model: '--dangerously' }, '--model: expected a model name of letters, digits and . _ : / @ -, got "--dangerously"'],
  ])('should refuse %o in one line', (flags, message) => {
    expect(() => cliLayer(flags)).toThrow(message);
  });
});
