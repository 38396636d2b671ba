import type { IncomingHttpHeaders } from 'node:http';

/** The furthest a reset time is believed: a limit "until next year" is a hostile or broken answer. */
export const MAX_RATE_LIMIT_WAIT_MS = 24 * 3_600_000;

const DURATION_PART = /(\d+(?:\.\d+)?)(ms|h|m|s)/g;
const DURATION_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** OpenAI's `x-ratelimit-reset-*` durations: `1s`, `6m0s`, `20ms`, `1h2m3.5s`. */
function parseGoDuration(text: string): number | undefined {
  if (!/^(?:\d+(?:\.\d+)?(?:ms|h|m|s))+$/.test(text)) return undefined;
  let total = 0;
  for (const [, amount, unit] of text.matchAll(DURATION_PART)) total += Number(amount) * (DURATION_MS[unit ?? 's'] ?? 0);
  return total;
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return (Array.isArray(value) ? value[0] : value)?.trim() || undefined;
}

/** Every reset time a 429 answer states, in epoch ms. */
function resetTimes(headers: IncomingHttpHeaders, body: string, now: number): number[] {
  const times: number[] = [];
  const retryAfter = header(headers, 'retry-after');
  if (retryAfter !== undefined) {
    if (/^\d+(\.\d+)?$/.test(retryAfter)) times.push(now + Number(retryAfter) * 1000);
    else if (/[a-z]/i.test(retryAfter) && !Number.isNaN(Date.parse(retryAfter))) times.push(Date.parse(retryAfter));
  }
  // Claude subscriptions: epoch seconds.
  const unified = header(headers, 'anthropic-ratelimit-unified-reset');
  if (unified !== undefined && /^\d+$/.test(unified)) times.push(Number(unified) * 1000);
  // Anthropic API keys: RFC 3339 times.
  for (const kind of ['requests', 'tokens', 'input-tokens', 'output-tokens']) {
    const value = header(headers, `anthropic-ratelimit-${kind}-reset`);
    if (value !== undefined && !Number.isNaN(Date.parse(value))) times.push(Date.parse(value));
  }
  // OpenAI: durations.
  for (const kind of ['requests', 'tokens']) {
    const value = header(headers, `x-ratelimit-reset-${kind}`);
    const ms = value === undefined ? undefined : parseGoDuration(value);
    if (ms !== undefined) times.push(now + ms);
  }
  // ChatGPT plans (Codex): `{"error":{"type":"usage_limit_reached","resets_at":<s>,"resets_in_seconds":<s>}}`.
  try {
    const error = (JSON.parse(body) as { error?: { resets_at?: unknown; resets_in_seconds?: unknown } }).error;
    if (typeof error?.resets_at === 'number') times.push(error.resets_at * 1000);
    if (typeof error?.resets_in_seconds === 'number') times.push(now + error.resets_in_seconds * 1000);
  } catch {
    // Not JSON: the headers decide.
  }
  return times.filter((time) => Number.isFinite(time));
}

/** The latest reset a 429 answer states (epoch ms), or undefined when it states none. */
export function statedReset(headers: IncomingHttpHeaders, body: string, now: number = Date.now()): number | undefined {
  const times = resetTimes(headers, body, now);
  return times.length === 0 ? undefined : Math.max(...times);
}

/**
 * When a rate-limited (429) answer says the limit resets: the latest time it states, at least a minute
 * from now when it states none, and never more than {@link MAX_RATE_LIMIT_WAIT_MS} away.
 */
export function rateLimitReset(headers: IncomingHttpHeaders, body: string, now: number = Date.now()): number {
  const latest = statedReset(headers, body, now) ?? now + 60_000;
  return Math.min(Math.max(latest, now + 1000), now + MAX_RATE_LIMIT_WAIT_MS);
}

/**
 * A limit the agent had better not wait out in its sandbox: one that resets more than this from now (a
 * usage limit of hours, say) ends the agent's run, and the task waits in the queue instead.
 */
export const AGENT_WAITS_AT_MOST_MS = 60_000;
