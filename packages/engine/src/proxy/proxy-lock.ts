import { join } from 'node:path';
import { acquireBuildLock } from '../docker/build-lock.js';

export interface ProxyLockOptions {
  lockDir: string;
  signal?: AbortSignal;
  /** @defaultValue 100 */
  pollMs?: number;
}

/**
 * Run `fn` holding the cross-process lock of one proxy fingerprint (`<lockDir>/proxy-<fingerprint>.lock`).
 * Every change to a proxy, its egress network or the attachments of task networks happens under it, so
 * a task that ends can never remove a proxy that a task starting at the same moment is about to use,
 * whichever workers (processes) of this host they run in. A holder that died is taken over.
 */
export async function withProxyLock<T>(fingerprint: string, options: ProxyLockOptions, fn: () => Promise<T>): Promise<T> {
  const lock = await acquireBuildLock(join(options.lockDir, `proxy-${fingerprint}.lock`), {
    signal: options.signal,
    pollMs: options.pollMs ?? 100,
  });
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}
