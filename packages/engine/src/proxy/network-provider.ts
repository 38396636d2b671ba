import type { TaskConfig } from '../config/resolved-config.js';
import type { SandboxNetwork } from '../docker/container-spec.js';

/** A task's hold on its network; `release()` is idempotent and frees what the task alone used. */
export interface SandboxNetworkLease {
  network: SandboxNetwork;
  release(): Promise<void>;
}

/** Gives each sandbox its network: an isolated one behind the proxy, or a plain one when isolation is off. */
export interface SandboxNetworkProvider {
  acquire(task: { id: string; config: TaskConfig }): Promise<SandboxNetworkLease>;
}
