import { basename, join } from 'node:path';
import { assetsRoot } from '../../common/assets.js';
import type { LayerOrigins } from '../../config/index.js';
import { composeImagePlan, type ImagePlan } from '../../docker/dockerfile-composer.js';
import type { TaskSpec } from '../../model/index.js';
import type { AgentIds } from '../agent-ids.js';
import { collectProjectFiles } from './project-files.js';

// Pure planning, apart from reading the project's files: no Docker client, so that creating a task
// (`tsk add`) loads none (see ARCHITECTURE.md "Entry points").

/**
 * The image plan for a task. `projectDir` holds the files the project layer's `setup` may COPY: the
 * task's workspace clone (its snapshot), or the repository itself for `tsk docker build`. `origins`
 * (known only where the configuration was loaded) name where each configured layer came from.
 */
export async function planTaskImage(
  spec: Pick<TaskSpec, 'config' | 'stack' | 'agent' | 'project'>,
  ids: AgentIds,
  projectDir: string,
  baseImageId?: string,
  origins?: LayerOrigins,
): Promise<ImagePlan> {
  return composeImagePlan({
    config: spec.config,
    stack: spec.stack,
    agent: spec.agent,
    project: spec.project,
    agentUid: ids.uid,
    agentGid: ids.gid,
    // The certificates were read when the task was created: the task trusts what was configured then.
    caFiles: spec.config.caCertificates.map(({ path, content }) => ({ name: basename(path), content })),
    projectFiles: await collectProjectFiles(projectDir, spec.config.setup),
    builtInDir: join(assetsRoot(), 'dockerfiles'),
    baseImageId,
    origins,
  });
}

