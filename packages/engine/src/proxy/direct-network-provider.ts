import type { SandboxNetworkLease, SandboxNetworkProvider } from './network-provider.js';

/**
 * Networks without a proxy: an isolated task gets no network at all (`none`); a task with isolation
 * turned off gets Docker's default bridge. Used where no proxy is wanted or available.
 */
export class DirectNetworkProvider implements SandboxNetworkProvider {
  async acquire(task: { config: { networkIsolation: boolean } }): Promise<SandboxNetworkLease> {
    const networkMode = task.config.networkIsolation ? 'none' : 'bridge';
    return { network: { networkMode, env: [] }, release: async () => undefined };
  }
}
