import { newTaskId } from '../common/ids.js';
import { resultBranchName } from '../common/sanitize.js';
import { InputError } from '../errors/index.js';
import { createSnapshot } from '../git/index.js';
import type { LogSink } from '../logging/index.js';
import type { AgentName, TaskSpec } from '../model/index.js';
import { renderInstructions } from '../templates/index.js';
import { agentIds } from '../runner/agent-ids.js';
import { planTaskImage } from '../runner/steps/ensure-task-image.js';
import { resolveTaskContext } from './resolve-task-context.js';

export interface CreateTaskSpecOptions {
  /** Any path inside the repository (a linked worktree resolves to its main repository). */
  repoPath: string;
  /** Template name. @defaultValue 'generic' (no template: the prompt verbatim) */
  type?: string;
  /** @defaultValue the type */
  name?: string;
  prompt: string | undefined;
  agent?: AgentName;
  stack?: string;
  project?: string;
  /** Start from this branch's committed state instead of the working tree. */
  branch?: string;
  /** `false` for --no-network-isolation. */
  networkIsolation?: boolean;
  parentTaskId?: string;
  /** Lets the user edit the rendered instructions (`--edit`) before the task is created. */
  edit?: (instructions: string) => Promise<string>;
  env?: NodeJS.ProcessEnv;
  log: LogSink;
}

/**
 * Turn a user's request into an immutable {@link TaskSpec}: resolve configuration, render the template,
 * then snapshot the repository. The snapshot comes last so that bad input leaves nothing behind.
 */
export async function createTaskSpec(options: CreateTaskSpecOptions): Promise<TaskSpec> {
  const type = options.type ?? 'generic';
  const name = options.name ?? type;
  const { repo, config, stack } = await resolveTaskContext({
    repoPath: options.repoPath,
    project: options.project,
    cli: { agent: options.agent, stack: options.stack, networkIsolation: options.networkIsolation },
    env: options.env,
  });
  if (!config.task.networkIsolation) options.log.write('warn', 'network isolation is off: the sandbox has unrestricted network access');
  // Compose the image plan now only to check it (unknown stack, a COPY source the repository lacks): a
  // task that cannot get an image must fail here, before anything is snapshotted or queued.
  await planTaskImage({ config: config.task, stack, agent: config.task.agent, project: config.project }, agentIds(), repo.workdir);
  let instructions = await renderInstructions({
    type,
    prompt: options.prompt,
    repoPath: repo.workdir,
    configDir: config.machine.configDir,
    log: options.log,
  });
  if (options.edit) instructions = await options.edit(instructions);
  if (!instructions.trim()) throw new InputError('The instructions are empty: nothing for the agent to do');

  const id = newTaskId();
  const snapshot = await createSnapshot({ repoPath: repo.workdir, taskId: id, branch: options.branch, log: options.log });
  return {
    version: 1,
    id,
    name,
    type,
    agent: config.task.agent,
    stack,
    project: config.project,
    instructions,
    repoPath: snapshot.repoPath,
    source: { kind: 'local', repoPath: snapshot.repoPath, ref: snapshot.ref, commit: snapshot.commit },
    branch: resultBranchName(type, name, id),
    parentBranch: snapshot.parentBranch,
    parentTaskId: options.parentTaskId,
    config: config.task,
    createdAt: new Date().toISOString(),
  };
}
