import { describe, expect, it, vi } from 'vitest';
import { ProxyLease } from './proxy-lease.js';

describe('ProxyLease', () => {
  it('should tear down once however often it is released or disposed', async () => {
    const teardown = vi.fn(async () => undefined);
    const lease = new ProxyLease({ networkMode: 'tsk-agent-x', env: [], build: { networkMode: 'tsk-agent-x', args: {} } }, 'tsk-proxy-x', teardown);
    await Promise.all([lease.release(), lease.release()]);
    await lease[Symbol.asyncDispose]();
    expect(teardown).toHaveBeenCalledTimes(1);
  });

  it('should give every caller the same failure', async () => {
    const lease = new ProxyLease({ networkMode: 'tsk-agent-x', env: [], build: { networkMode: 'tsk-agent-x', args: {} } }, 'tsk-proxy-x', () => Promise.reject(new Error('boom')));
    await expect(lease.release()).rejects.toThrow('boom');
    await expect(lease.release()).rejects.toThrow('boom');
  });
});
