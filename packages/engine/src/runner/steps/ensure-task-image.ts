import type Dockerode from 'dockerode';
import { ensureBaseImage, type BuildLimits, type BuildNetwork, type ImageBuilder } from '../../docker/index.js';
import type { LogSink } from '../../logging/index.js';
import type { TaskSpec } from '../../model/index.js';
import type { AgentIds } from '../agent-ids.js';
import { planTaskImage } from './plan-task-image.js';

export { planTaskImage } from './plan-task-image.js';

export interface EnsureTaskImageOptions {
  log: LogSink;
  signal?: AbortSignal;
  projectDir: string;
  /** Where the build runs: the task's own network behind its proxy, so it reaches only what the sandbox may. */
  network: BuildNetwork;
  /** The task's limits (`taskLimits`): a build runs its Dockerfile lines, so it gets them too. */
  limits: BuildLimits;
}

/**
 * Where a task's image comes from: built (or found cached) on the Docker engine in production
 * ({@link dockerTaskImages}); a stand-in in the runner's fast tests. Returns the image's tag.
 */
export interface TaskImages {
  ensure(spec: TaskSpec, ids: AgentIds, options: EnsureTaskImageOptions): Promise<string>;
}

/** Task images built and cached on this Docker engine by its image builder (see {@link ensureTaskImage}). */
export function dockerTaskImages(engine: { docker: Dockerode; images: ImageBuilder }): TaskImages {
  return { ensure: (spec, ids, options) => ensureTaskImage(engine, spec, ids, options) };
}

/**
 * Make sure the task's image exists, building it (and the base image, on hosts with no registry) with
 * progress when it does not, and return its tag. A build runs the task's own Dockerfile lines, so it gets
 * the task's limits and network.
 */
export async function ensureTaskImage(
  engine: { docker: Dockerode; images: ImageBuilder },
  spec: TaskSpec,
  ids: AgentIds,
  options: EnsureTaskImageOptions,
): Promise<string> {
  const base = await ensureBaseImage({ docker: engine.docker, tag: spec.config.baseImage, log: options.log, signal: options.signal });
  const plan = await planTaskImage(spec, ids, options.projectDir, base.id);
  const { tag, built } = await engine.images.ensureImage(plan, {
    log: options.log,
    signal: options.signal,
    network: options.network,
    limits: options.limits,
  });
  // A build reports itself (with its duration); an existing image is worth one line too.
  if (!built) options.log.write('tsk', `Using image ${tag}`);
  return tag;
}
