import type { DockerServices } from '../queue/index.js';
import { ProxyManager } from '../proxy/index.js';

/**
 * The one place a queue worker chooses how sandboxes get their network: per-task internal networks
 * behind shared Squid proxies, or Docker's bridge for tasks whose (policy-checked) isolation is off.
 */
export function createWorkerNetworkProvider(services: DockerServices, options: { idleTimeoutMs?: number } = {}): ProxyManager {
  // Its periodic sweep removes warm proxies while it runs; the idle reaper covers the time after it stops
  // (`--quit-when-empty`, `tsk server stop`, a crash), when no process of its lock folder may run again.
  return new ProxyManager({ docker: services.docker, images: services.images, lockDir: services.lockDir, idleTimeoutMs: options.idleTimeoutMs, idleReaper: true });
}
