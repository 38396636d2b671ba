/** Port Squid listens on inside the proxy container; a custom `squid_conf` must keep it. */
export const PROXY_PORT = 3128;

/** Name under which a sandbox finds its proxy on its task network (`$TSK_PROXY_HOST`). */
export const PROXY_ALIAS = 'tsk-proxy';

/** Label holding the proxy fingerprint, on the proxy container and on every network that belongs to it. */
export const LABEL_PROXY = 'tsk.proxy';
/** Label telling what a tsk network or container is for: see {@link ProxyRole}. */
export const LABEL_ROLE = 'tsk.role';
/** Label on a task network: `<host>/<pid>` of the process that holds it, to tell live tasks from crashed ones. */
export const LABEL_OWNER = 'tsk.owner';

/**
 * Label holding the lock domain (see `lockDomain`) of the tsk that made a proxy, its egress network or a
 * task network. Every change to those objects happens under a lock file, and lock folders are per user
 * (see `ensureDockerLockDir`): processes that do not share a lock folder must not share the objects
 * those locks guard, so each lock domain creates, tears down and sweeps only its own.
 */
export const LABEL_LOCKS = 'tsk.locks';

/**
 * Whether a proxy object (its labels) belongs to the lock domain `domain`. Objects without the label were
 * made before proxies had one; they count as everyone's own, so whoever runs `tsk proxy stop` frees them.
 */
export function inLockDomain(labels: Record<string, string> | undefined, domain: string): boolean {
  const owner = labels?.[LABEL_LOCKS];
  return owner === undefined || owner === domain;
}

/** `proxy`: the shared Squid container; `egress`: its outside network; `task`: one sandbox's internal network. */
export type ProxyRole = 'proxy' | 'egress' | 'task';

/** Container name of the proxy for one configuration: `tsk-proxy-<fingerprint>`. */
export function proxyContainerName(fingerprint: string): string {
  return `tsk-proxy-${fingerprint}`;
}

/** The proxy's own network to the outside world: `tsk-egress-<fingerprint>`. */
export function egressNetworkName(fingerprint: string): string {
  return `tsk-egress-${fingerprint}`;
}

/** A task's internal network, shared only with its proxy: `tsk-agent-<taskId>`. */
export function taskNetworkName(taskId: string): string {
  return `tsk-agent-${taskId}`;
}
