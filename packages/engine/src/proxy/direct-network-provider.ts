import type { SandboxNetworkLease, SandboxNetworkProvider } from './network-provider.js';
import { noDenials } from './proxy-denials.js';

/**
 * Networks without a proxy, for tests: an isolated task's sandbox gets no network at all (`none`); a
 * task with isolation turned off gets Docker's default bridge. Image builds use the default bridge, so
 * this provider is not isolation: workers and `tsk run` use {@link ProxyManager}.
 */
export class DirectNetworkProvider implements SandboxNetworkProvider {
  async acquire(task: { config: { networkIsolation: boolean } }): Promise<SandboxNetworkLease> {
    const networkMode = task.config.networkIsolation ? 'none' : 'bridge';
    return {
      network: { networkMode, env: [], build: { networkMode: 'bridge', args: {} } },
      denials: async () => noDenials(),
      release: async () => undefined,
    };
  }
}
