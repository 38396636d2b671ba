import { MAX_RATE_LIMIT_WAIT_MS } from '../agent-api/index.js';

/**
 * How far a rate-limited task may be put off. Its agent's API said when its limit resets (the runner's
 * `TaskResult.retryAt`, read by the agent API gateway from the API's answer and bounded there too); it is
 * bounded here again, in count and in time, where the queue acts on it, so a hostile or broken value can
 * neither keep a task circling the queue nor park it for a year.
 */

/** A task goes back to the queue rate limited at most this many times; the next limit fails it. */
export const MAX_RATE_LIMIT_DELAYS = 5;

/** The latest a task is put off to: a reset further away is clamped to this (it is tried again then). */
export const MAX_RATE_LIMIT_DELAY_MS = MAX_RATE_LIMIT_WAIT_MS;

/** When the reset time is not a time at all: try again in a minute. */
const UNREADABLE_RETRY_DELAY_MS = 60_000;

/**
 * When a task rate limited at `now` goes back on the queue: `retryAt` clamped to [now, now + 24 h]; a value
 * that is not a time gives a minute.
 */
export function rateLimitedUntil(retryAt: string, now: number = Date.now()): Date {
  const at = retryAt.length <= 64 ? Date.parse(retryAt) : Number.NaN;
  if (Number.isNaN(at)) return new Date(now + UNREADABLE_RETRY_DELAY_MS);
  return new Date(Math.min(Math.max(at, now), now + MAX_RATE_LIMIT_DELAY_MS));
}

/** The error of a task that hit its limit once too often. */
export function rateLimitGivingUp(delays: number): string {
  return `rate limited ${delays} times: giving up`;
}
