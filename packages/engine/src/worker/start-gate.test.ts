import { describe, expect, it } from 'vitest';
import { StartGate, waitUnlessAborted } from './start-gate.js';

describe('StartGate', () => {
  it('spaces starts reserved together by the interval, and lets a start after a quiet spell go at once', () => {
    const gate = new StartGate(2000);
    expect([gate.reserve(1000), gate.reserve(1000), gate.reserve(1500)]).toEqual([0, 2000, 3500]);
    expect(gate.reserve(10_000)).toBe(0);
    expect(gate.reserve(10_500)).toBe(1500);
  });

  it('never waits with no interval', () => {
    const gate = new StartGate(0);
    expect([gate.reserve(5), gate.reserve(5)]).toEqual([0, 0]);
  });

  it('ends a wait when its signal aborts', async () => {
    const controller = new AbortController();
    // Without the abort the wait would outlast the test's own timeout.
    const waiting = waitUnlessAborted(10_000, controller.signal);
    setTimeout(() => controller.abort(), 50);
    expect(await waiting).toBe(false);
    expect(await waitUnlessAborted(10, new AbortController().signal)).toBe(true);
  });
});
