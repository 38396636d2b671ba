import { resolve, sep } from 'node:path';
import type { WorkerPolicy } from '../config/index.js';
import { BUILT_IN_STACKS } from '../docker/layers.js';
import type { TaskSpec } from '../model/index.js';
import type { TrustedSigner } from '../signing/index.js';

/** What a worker decides a job with: its `[worker]` policy and its own base image. */
export interface JobPolicyContext {
  policy: WorkerPolicy;
  /** The worker's configured `base_image`, which any signer may use. */
  baseImage: string;
  /** The worker's own shared remote (its `remote` / `TSK_REMOTE_URL`), which any signer may use. */
  remote: string | undefined;
}


function within(path: string, folder: string): boolean {
  const normal = resolve(folder);
  return path === normal || path.startsWith(normal.endsWith(sep) ? normal : normal + sep);
}

/** Whether a task brings Dockerfile lines of its own: `setup`, a layer override, or a stack tsk does not ship. */
export function hasImageLayers(spec: Pick<TaskSpec, 'config' | 'stack'>): boolean {
  const { config } = spec;
  const layers = [...Object.values(config.stackConfig), ...Object.values(config.agentConfig)];
  return config.setup !== undefined || layers.some((layer) => layer.setup !== undefined) || !(BUILT_IN_STACKS as readonly string[]).includes(spec.stack);
}

/**
 * Why this worker will not run a job, setting by setting, each naming the `[worker]` key that would allow
 * it; empty when it may. Host bind mounts, devices and turning isolation off are governed by their
 * `allow_*` keys for every signer. Everything else a job could ask of the machine — its own proxy
 * configuration, forwarded host ports, image layers, base image, memory and CPU, the repository it reads,
 * variables of the worker's environment — is the owner's to ask (as `tsk run` may) and limited by the
 * policy for every other signer. `repoRealPath` is the repository's path with symlinks resolved.
 */
export function policyRefusals(spec: TaskSpec, signer: TrustedSigner, context: JobPolicyContext, repoRealPath: string = spec.repoPath): string[] {
  const { policy } = context;
  const { config } = spec;
  const refused: string[] = [];
  const binds = config.volumes.flatMap((volume) => (volume.kind === 'bind' ? [volume.host] : []));
  if (binds.length > 0 && !policy.allowBindMounts) refused.push(`host bind mounts ${binds.join(', ')} (allow_bind_mounts)`);
  if (config.devices.length > 0 && !policy.allowDevices) refused.push(`devices ${config.devices.join(', ')} (allow_devices)`);
  if (!config.networkIsolation && !policy.allowNoNetworkIsolation) refused.push('no network isolation (allow_no_network_isolation)');
  if (signer.owner) return refused;

  if (config.squidConf !== undefined && !policy.allowSquidConf) refused.push('its own proxy configuration squid_conf (allow_squid_conf)');
  const ports = config.hostPorts.filter((port) => !policy.hostPorts.includes(port));
  if (ports.length > 0) refused.push(`forwarded host ports ${ports.join(', ')} (host_ports)`);
  if (hasImageLayers(spec) && !policy.allowImageLayers) refused.push('its own image layers: setup, stack_config, agent_config or a stack tsk does not ship (allow_image_layers)');
  if (config.baseImage !== context.baseImage && !policy.baseImages.includes(config.baseImage)) refused.push(`base image ${config.baseImage} (base_images)`);
  if (config.memoryGb > policy.maxMemoryGb) refused.push(`${config.memoryGb} GiB of memory (max_memory_gb = ${policy.maxMemoryGb})`);
  if (config.cpu > policy.maxCpu) refused.push(`${config.cpu} CPUs (max_cpu = ${policy.maxCpu})`);
  if (spec.source.kind === 'remote') {
    // The worker fetches and pushes with its own credentials: only to remotes it was set up for.
    const { url } = spec.source;
    if (url !== context.remote && !policy.remotes.includes(url)) refused.push(`the shared remote ${url} (remotes)`);
  } else if (!policy.repositories.some((folder) => within(repoRealPath, folder))) {
    // The real path: a symlink inside an allowed folder must not lead a job out of it.
    refused.push(`reading repository ${spec.repoPath} (repositories)`);
  }
  const env = config.envFromWorker.filter((name) => !policy.shareEnv.includes(name));
  if (env.length > 0) refused.push(`variables ${env.join(', ')} of the worker's environment (share_env)`);
  return refused;
}

/** The one-line reason recorded on a refused task. */
export function policyRefusalMessage(signer: TrustedSigner, refused: readonly string[]): string {
  const whose = signer.owner ? 'its owner’s tasks' : `tasks of ${signer.name}`;
  return `refused by this worker's policy for ${whose}: ${refused.join('; ')}; the worker's [worker] settings must allow them`;
}
