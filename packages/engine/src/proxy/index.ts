export type { SandboxNetworkLease, SandboxNetworkProvider } from './network-provider.js';
export { DirectNetworkProvider } from './direct-network-provider.js';
