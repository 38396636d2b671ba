import { createHash } from 'node:crypto';
import type { TaskConfig } from '../config/resolved-config.js';
import { ConfigError } from '../errors/index.js';
import { PROXY_PORT } from './proxy-names.js';

/** What decides which proxy a task uses: tasks with equal proxy configurations share one proxy. */
export interface ProxyConfig {
  /** Host ports forwarded by the proxy, sorted and without duplicates. */
  hostPorts: number[];
  /** The full squid.conf the proxy runs with (the task's `squid_conf`, or tsk's default). */
  squidConf: string;
}

/**
 * The proxy configuration of a task: its `host_ports` normalized and its `squid_conf`, or `defaultConf`
 * when it has none.
 *
 * @throws ConfigError for a port outside 1–65535 or equal to the proxy's own port.
 */
export function resolveProxyConfig(config: Pick<TaskConfig, 'hostPorts' | 'squidConf'>, defaultConf: string): ProxyConfig {
  for (const port of config.hostPorts) {
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw new ConfigError(`host_ports: ${port} is not a TCP port (1-65535)`);
    }
    if (port === PROXY_PORT) {
      throw new ConfigError(`host_ports: ${PROXY_PORT} is the proxy's own port and cannot be forwarded`, {
        hint: 'run the host service on another port',
      });
    }
  }
  const hostPorts = [...new Set(config.hostPorts)].sort((a, b) => a - b);
  const squidConf = config.squidConf !== undefined && config.squidConf.trim() !== '' ? config.squidConf : defaultConf;
  return { hostPorts, squidConf };
}

/**
 * A short stable name for a proxy: a hash of its configuration, of the proxy image (a changed image, a new
 * `squid/` folder, starts a new proxy while tasks still using the old one keep it) and of the lock domain
 * (see `lockDomain`): proxies are shared only by processes that share the locks guarding them. The format
 * version changes when what a proxy runs with does (v4: the flush marker rule, `denial-flush.ts`).
 */
export function proxyFingerprint(config: ProxyConfig, imageTag: string, domain: string): string {
  const hash = createHash('sha256');
  hash.update(JSON.stringify({ format: 'tsk-proxy-v4', hostPorts: config.hostPorts, squidConf: config.squidConf, image: imageTag, domain }));
  return hash.digest('hex').slice(0, 12);
}
