export type { SandboxNetworkLease, SandboxNetworkProvider, NetworkTask } from './network-provider.js';
export { DirectNetworkProvider } from './direct-network-provider.js';
export { ProxyManager, type ProxyManagerOptions } from './proxy-manager.js';
export { ProxyLease } from './proxy-lease.js';
export { noDenials, type ProxyDenials } from './proxy-denials.js';
export type { StopIdleProxiesResult, StopIdleProxiesOptions } from './idle-proxies.js';
export { planProxyImage, DEFAULT_PROXY_BASE_IMAGE, type ProxyImagePlan } from './proxy-image.js';
export { resolveProxyConfig, proxyFingerprint, type ProxyConfig } from './squid-config.js';
export { proxyEnv } from './proxy-env.js';
export { buildProxyContainerSpec, PROXY_CAPABILITIES, type ProxyContainerSpecOptions } from './proxy-container-spec.js';
export { taskNetworkCreateOptions, ensureTaskNetwork, assertEngineIsolates, assertTaskNetworkIsolated, INHIBIT_IPV4_OPTION } from './task-network.js';
export {
  PROXY_PORT,
  PROXY_ALIAS,
  LABEL_PROXY,
  LABEL_ROLE,
  LABEL_OWNER,
  LABEL_LOCKS,
  inLockDomain,
  proxyContainerName,
  egressNetworkName,
  taskNetworkName,
  type ProxyRole,
} from './proxy-names.js';
export { lockDomain } from './task-owner.js';
