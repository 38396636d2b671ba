/** Token counts of one Claude message, as its `usage` reports them. */
export interface ClaudeMessageUsage {
  input_tokens?: number;
  output_tokens?: number;
  cache_creation_input_tokens?: number;
  cache_read_input_tokens?: number;
}

/** US dollars per million tokens: input and output. Cache writes cost 1.25× input, cache reads 0.1×. */
interface Price {
  input: number;
  output: number;
}

/**
 * Anthropic's published prices (anthropic.com/pricing), by model family, most specific first. Only for
 * the running estimate that stops a task over its budget: the agent's own total replaces it at the end.
 * An unknown model is priced as the most expensive family, so an estimate never lets a budget slip.
 */
const PRICES: readonly [pattern: RegExp, price: Price][] = [
  [/opus-4-[5-9]|opus-[5-9]/, { input: 5, output: 25 }],
  [/opus/, { input: 15, output: 75 }],
  [/sonnet/, { input: 3, output: 15 }],
  [/haiku-4|haiku-[5-9]/, { input: 1, output: 5 }],
  [/haiku/, { input: 0.8, output: 4 }],
];
const UNKNOWN_MODEL: Price = { input: 15, output: 75 };

/** A token count as the agent reported it, or 0 for anything that is not one. */
export const tokenCount = (value: unknown): number => (typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : 0);

/** What one message cost, estimated from its usage and model. */
export function estimateMessageCost(model: string | undefined, usage: ClaudeMessageUsage): number {
  const price = PRICES.find(([pattern]) => pattern.test(model ?? ''))?.[1] ?? UNKNOWN_MODEL;
  const input = tokenCount(usage.input_tokens) + 1.25 * tokenCount(usage.cache_creation_input_tokens) + 0.1 * tokenCount(usage.cache_read_input_tokens);
  return (input * price.input + tokenCount(usage.output_tokens) * price.output) / 1_000_000;
}
