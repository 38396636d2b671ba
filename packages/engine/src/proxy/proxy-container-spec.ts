import type Dockerode from 'dockerode';
import { LABEL_MANAGED } from '../docker/container-spec.js';
import { LABEL_PROXY, LABEL_ROLE, LABEL_LOCKS, PROXY_PORT, proxyContainerName } from './proxy-names.js';
import { withFlushRule } from './denial-flush.js';
import type { ProxyConfig } from './squid-config.js';

/**
 * The only capabilities the proxy keeps: NET_ADMIN for its iptables rules, SETUID/SETGID for the
 * entrypoint to become the unprivileged `proxy` user. Squid and socat then run with none at all.
 */
export const PROXY_CAPABILITIES = ['NET_ADMIN', 'SETUID', 'SETGID'] as const;

/** uid/gid of Debian's `proxy` user (fixed by base-passwd), owner of Squid's writable directories. */
const PROXY_UID = 13;

export interface ProxyContainerSpecOptions {
  fingerprint: string;
  /** The lock domain the proxy objects belong to (their `tsk.locks` label). */
  domain: string;
  image: string;
  config: ProxyConfig;
  /** The proxy's egress network, the one it is created on. */
  egressNetwork: string;
  /**
   * What `host.docker.internal` resolves to in the proxy, where forwarded host ports go: the egress
   * network's gateway address, or `host-gateway` on engines that run in a VM (Docker Desktop).
   */
  hostAddress: string;
}

/**
 * Docker create options for a proxy container (pure). Hardened: read-only root filesystem, every
 * capability dropped but {@link PROXY_CAPABILITIES}, no-new-privileges, tmpfs for everything Squid
 * writes, memory and pids limits, a rotated log.
 */
export function buildProxyContainerSpec(options: ProxyContainerSpecOptions): Dockerode.ContainerCreateOptions {
  const { fingerprint, config } = options;
  const tmpfs = (extra: string) => `rw,nosuid,nodev,noexec,${extra}`;
  return {
    name: proxyContainerName(fingerprint),
    Image: options.image,
    Env: [
      `TSK_PROXY_PORT=${PROXY_PORT}`,
      `TSK_HOST_PORTS=${config.hostPorts.join(' ')}`,
      // Through the environment rather than a bind mount: works with remote engines, and the root
      // filesystem stays read-only. The entrypoint writes it to tmpfs. tsk's flush marker rule comes first.
      `TSK_SQUID_CONF_B64=${Buffer.from(withFlushRule(config.squidConf), 'utf8').toString('base64')}`,
    ],
    Labels: { [LABEL_MANAGED]: 'true', [LABEL_ROLE]: 'proxy', [LABEL_PROXY]: fingerprint, [LABEL_LOCKS]: options.domain },
    HostConfig: {
      NetworkMode: options.egressNetwork,
      ReadonlyRootfs: true,
      CapDrop: ['ALL'],
      CapAdd: [...PROXY_CAPABILITIES],
      SecurityOpt: ['no-new-privileges:true'],
      Tmpfs: {
        '/run': tmpfs('size=16m,mode=1777'),
        '/tmp': tmpfs('size=16m,mode=1777'),
        '/var/log/squid': tmpfs(`size=64m,uid=${PROXY_UID},gid=${PROXY_UID},mode=0750`),
        '/var/spool/squid': tmpfs(`size=16m,uid=${PROXY_UID},gid=${PROXY_UID},mode=0750`),
      },
      ExtraHosts: [`host.docker.internal:${options.hostAddress}`],
      // The denials its tasks' logs show are read from this log (see ProxyDenialFeed): a driver Docker can
      // read back whatever the engine's default, rotated so that an agent asking in a loop cannot fill the disk.
      LogConfig: { Type: 'json-file', Config: { 'max-size': '8m', 'max-file': '2' } },
      // socat runs unprivileged but may have to listen on a forwarded port below 1024.
      Sysctls: { 'net.ipv4.ip_unprivileged_port_start': '0' },
      Memory: 512 * 1024 ** 2,
      PidsLimit: 1024,
      Init: true,
      AutoRemove: false,
    },
  };
}
