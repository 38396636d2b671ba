import type { ImagePlan } from '../docker/index.js';
import type { AgentName } from '../model/index.js';
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

/** The image a task in this repository would use (`tsk docker build`), and the base image it needs. */
export async function planRepositoryImage(options: PlanRepositoryImageOptions, ids: AgentIds): Promise<{ plan: ImagePlan; baseImage: string }> {
  const { repo, config, stack } = await resolveTaskContext({
    repoPath: options.repoPath,
    project: options.project,
    cli: { agent: options.agent, stack: options.stack },
    env: options.env,
  });
  const baseImageId = await options.baseImageId?.(config.task.baseImage);
  const plan = await planTaskImage({ config: config.task, stack, agent: config.task.agent, project: config.project }, ids, repo.workdir, baseImageId);
  return { plan, baseImage: config.task.baseImage };
}
