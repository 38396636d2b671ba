import type { SandboxNetwork } from '../docker/container-spec.js';
import type { SandboxNetworkLease } from './network-provider.js';
import type { DenialWatch } from './proxy-denial-feed.js';
import { noDenials, type ProxyDenials } from './proxy-denials.js';

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
    /** The proxy's denials for this task; none without a proxy. */
    private readonly watch?: DenialWatch,
  ) {}

  denials(): Promise<ProxyDenials> {
    return this.watch ? this.watch.settle() : Promise.resolve(noDenials());
  }

  release(): Promise<void> {
    this.releasing ??= (async () => {
      this.watch?.stop();
      await this.teardown();
    })();
    return this.releasing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.release();
  }
}
