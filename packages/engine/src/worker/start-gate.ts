/**
 * `[server] start_interval`: the starts of one worker's tasks are at least this far apart, so that agents
 * taken together do not all hit their API (and its rate limit) in the same second. Each task reserves the
 * next free start time; the first waits for nothing.
 */
export class StartGate {
  private next = 0;

  constructor(private readonly intervalMs: number) {}

  /** Reserve the next start: how long to wait for it (0: start now). */
  reserve(now: number = Date.now()): number {
    const at = Math.max(now, this.next);
    this.next = at + this.intervalMs;
    return at - now;
  }
}

/** Wait `ms`, or less when `signal` aborts; returns whether the whole wait passed. */
export function waitUnlessAborted(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const timer = setTimeout(() => finish(true), ms);
    const onAbort = () => finish(false);
    function finish(whole: boolean) {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      resolve(whole);
    }
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
