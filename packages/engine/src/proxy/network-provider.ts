import type { TaskConfig } from '../config/resolved-config.js';
import type { SandboxNetwork } from '../docker/container-spec.js';
import type { LogSink } from '../logging/index.js';
import type { ProxyDenials } from './proxy-denials.js';

/** A task's hold on its network; `release()` is idempotent and frees what the task alone used. */
export interface SandboxNetworkLease {
  network: SandboxNetwork;
  /**
   * The requests the proxy denied this task so far (each also said in the task's log as it happened).
   * Call before `release()`: it catches up with the proxy's log first. None without a proxy.
   */
  denials(): Promise<ProxyDenials>;
  release(): Promise<void>;
}

/** The task a network is acquired for. */
export interface NetworkTask {
  id: string;
  config: TaskConfig;
  /** Where progress (building or starting the proxy) goes; a provider default applies when absent. */
  log?: LogSink;
  /** Abort to stop waiting (for a lock, a build, a health check). */
  signal?: AbortSignal;
}

/** Gives each sandbox its network: an isolated one behind the proxy, or a plain one when isolation is off. */
export interface SandboxNetworkProvider {
  acquire(task: NetworkTask): Promise<SandboxNetworkLease>;
}
