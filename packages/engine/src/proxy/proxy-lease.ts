import type { SandboxNetwork } from '../docker/container-spec.js';
import type { SandboxNetworkLease } from './network-provider.js';

/**
 * A task's hold on its network and its share of a proxy. `release()` runs the teardown once, however
 * often it is called, and every caller gets the same outcome; `await using` releases too.
 */
export class ProxyLease implements SandboxNetworkLease, AsyncDisposable {
  private releasing: Promise<void> | undefined;

  constructor(
    readonly network: SandboxNetwork,
    /** The proxy container's name, or undefined for a lease without a proxy (isolation off). */
    readonly proxyName: string | undefined,
    private readonly teardown: () => Promise<void>,
  ) {}

  release(): Promise<void> {
    this.releasing ??= this.teardown();
    return this.releasing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.release();
  }
}
