import type Dockerode from 'dockerode';
import { newTaskId } from '../common/ids.js';
import type { TaskConfig } from '../config/index.js';
import { engineCpuCount, taskLimits, type ImageBuilder, type ImagePlan } from '../docker/index.js';
import type { LogSink } from '../logging/index.js';
import type { AgentName } from '../model/index.js';
import type { SandboxNetworkProvider } from '../proxy/network-provider.js';
import type { AgentIds } from '../runner/agent-ids.js';
import { planTaskImage } from '../runner/steps/ensure-task-image.js';
import { resolveTaskContext } from './resolve-task-context.js';

export interface PlanRepositoryImageOptions {
  repoPath: string;
  stack?: string;
  agent?: AgentName;
  project?: string;
  env?: NodeJS.ProcessEnv;
  /**
   * The id of the configured base image (part of the tag), found or made once the base image name is
   * known. @defaultValue none: the tag is then that of a plan without an engine
   */
  baseImageId?: (baseImage: string) => Promise<string | undefined>;
}

/** A repository's image plan with the configuration it was made from. */
export interface PlannedRepositoryImage {
  plan: ImagePlan;
  baseImage: string;
  config: TaskConfig;
  /** The configuration's warnings (TSK keys), for the caller to show. */
  warnings: string[];
}

/** The image a task in this repository would use (`tsk docker build`), and the base image it needs. */
export async function planRepositoryImage(options: PlanRepositoryImageOptions, ids: AgentIds): Promise<PlannedRepositoryImage> {
  const { repo, config, stack } = await resolveTaskContext({
    repoPath: options.repoPath,
    project: options.project,
    cli: { agent: options.agent, stack: options.stack },
    env: options.env,
  });
  const baseImageId = await options.baseImageId?.(config.task.baseImage);
  const spec = { config: config.task, stack, agent: config.task.agent, project: config.project };
  const plan = await planTaskImage(spec, ids, repo.workdir, baseImageId, config.layerOrigins);
  return { plan, baseImage: config.task.baseImage, config: config.task, warnings: config.warnings };
}

export interface BuildRepositoryImageOptions {
  docker: Dockerode;
  images: ImageBuilder;
  /** Gives the build its network: the repository's proxy, as a task of it would get. */
  network: SandboxNetworkProvider;
  log: LogSink;
  noCache?: boolean;
}

/**
 * Build a repository's image (`tsk docker build`) as a task's would be built: its `setup` and layer lines
 * run on a network of their own behind the repository's proxy, with its memory and CPU limits, so a
 * repository's own Dockerfile lines reach only the proxy's allowlist.
 */
export async function buildRepositoryImage(
  planned: { plan: ImagePlan; config: TaskConfig },
  options: BuildRepositoryImageOptions,
): Promise<{ tag: string; built: boolean }> {
  const lease = await options.network.acquire({ id: newTaskId(), config: planned.config, log: options.log });
  try {
    return await options.images.ensureImage(planned.plan, {
      log: options.log,
      noCache: options.noCache,
      network: lease.network.build,
      limits: taskLimits(planned.config, await engineCpuCount(options.docker)),
    });
  } finally {
    await lease.release();
  }
}
