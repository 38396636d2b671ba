import { existsSync } from 'node:fs';
import type { WorkerPolicy } from '../config/index.js';
import type { TaskSpec } from '../model/index.js';

/**
 * Why this worker refuses a job, or undefined when its policy allows it. A job author must not be able
 * to mount the worker's disks, pass its devices or lift network isolation unless the worker's owner
 * allowed it in `[worker]` (SPEC §7).
 */
export function policyRefusal(spec: Pick<TaskSpec, 'config'>, policy: WorkerPolicy): string | undefined {
  const refused: string[] = [];
  const binds = spec.config.volumes.filter((volume) => volume.kind === 'bind');
  if (binds.length > 0 && !policy.allowBindMounts) {
    refused.push(`host bind mounts (${binds.map((volume) => volume.kind === 'bind' && volume.host).join(', ')}; allow_bind_mounts)`);
  }
  if (spec.config.devices.length > 0 && !policy.allowDevices) refused.push(`devices (${spec.config.devices.join(', ')}; allow_devices)`);
  if (!spec.config.networkIsolation && !policy.allowNoNetworkIsolation) refused.push('no network isolation (allow_no_network_isolation)');
  if (refused.length === 0) return undefined;
  return `refused by this worker's policy: ${refused.join(', ')}; the worker's [worker] settings must allow them`;
}

/**
 * Why this worker cannot reach the task's starting commit, or undefined. A `local` source is a path on
 * the producer's machine: only workers on that machine can use it.
 */
export function sourceRefusal(spec: Pick<TaskSpec, 'source'>, workerHost: string): string | undefined {
  if (spec.source.kind !== 'local' || existsSync(spec.source.repoPath)) return undefined;
  return (
    `repository ${spec.source.repoPath} is not on this worker's machine (${workerHost}); ` +
    'tasks queued from another machine need a shared git remote ([remote] url)'
  );
}
