import { join } from 'node:path';
import type { ResolvedConfig } from '../config/index.js';
import type { ImageBuilder } from '../docker/index.js';
import type { Dockerode } from '../docker/docker-client.js';
import { ProxyManager } from '../proxy/index.js';

/**
 * The one place a queue worker chooses how sandboxes get their network: per-task internal networks
 * behind shared Squid proxies, or Docker's bridge for tasks whose (policy-checked) isolation is off.
 */
export function createWorkerNetworkProvider(docker: Dockerode, images: ImageBuilder, config: ResolvedConfig): ProxyManager {
  return new ProxyManager({ docker, images, lockDir: join(config.machine.runtimeDir, 'locks') });
}
