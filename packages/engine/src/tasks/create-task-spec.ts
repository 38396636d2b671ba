import { newTaskId } from '../common/ids.js';
import { resultBranchName } from '../common/sanitize.js';
import { InputError, summarizeProblems, TaskPayloadError } from '../errors/index.js';
import { createSnapshot, deleteSnapshotRef, pushSnapshot, snapshotRef } from '../git/index.js';
import type { LogSink } from '../logging/index.js';
import { TASK_SPEC_VERSION, validateTaskSpec, type AgentName, type FollowUp, type TaskSigner, type TaskSpec } from '../model/index.js';
import { renderInstructions } from '../templates/index.js';
import { agentIds } from '../runner/agent-ids.js';
import { planTaskImage } from '../runner/steps/plan-task-image.js';
import type { CliConfigOverrides } from '../config/index.js';
import { prepareFollowUp, type EarlierTask } from './follow-up.js';
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
  /** `--model`, `--max-cost`, `--timeout`, `--max-turns` as typed: the highest configuration level. */
  budget?: Pick<CliConfigOverrides, 'model' | 'maxCost' | 'timeout' | 'maxTurns'>;
  parentTaskId?: string;
  /**
   * Follow up this earlier task (`--follow-up`): start from its result commit, tell the agent what it was
   * asked and did before the new request, and fast-forward its branch with the result when it may. Not
   * with `branch`, `parentTaskId` or through a shared remote. The agent defaults to the earlier one's.
   */
  followUp?: EarlierTask;
  /** Worker labels the task needs (`--requires`); checked here so a typo fails now, not at a worker. */
  requires?: readonly string[];
  /** Lets the user edit the rendered instructions (`--edit`) before the task is created. */
  edit?: (instructions: string) => Promise<string>;
  env?: NodeJS.ProcessEnv;
  log: LogSink;
  /**
   * Receives the configuration's warnings (TSK keys read as tsk's or ignored), so a caller that creates
   * several tasks can show each once. @defaultValue each written to `log` as a `warn` line
   */
  onConfigWarnings?: (warnings: readonly string[]) => void;
  /** Who will sign the task: the user's key (see `signing/`). */
  signer: TaskSigner;
  /**
   * Send the task through the project's shared remote when one is configured (`tsk add`): the snapshot is
   * pushed there and the task names the remote. `tsk run` runs here and needs none. @defaultValue false
   */
  viaRemote?: boolean;
}

/**
 * Turn a user's request into an immutable {@link TaskSpec}: resolve configuration, render the template,
 * then snapshot the repository. The snapshot comes last so that bad input leaves nothing behind.
 */
export async function createTaskSpec(options: CreateTaskSpecOptions): Promise<TaskSpec> {
  const type = options.type ?? 'generic';
  const name = options.name ?? type;
  const earlier = options.followUp;
  if (earlier !== undefined && (options.branch !== undefined || options.parentTaskId !== undefined)) {
    throw new InputError(`--follow-up starts from task ${earlier.id}'s result: it does not go with ${options.branch !== undefined ? '--branch' : '--parent'}`);
  }
  const { repo, config, stack } = await resolveTaskContext({
    repoPath: options.repoPath,
    project: options.project,
    cli: { agent: options.agent ?? earlier?.agent, stack: options.stack, networkIsolation: options.networkIsolation, ...options.budget },
    env: options.env,
  });
  if (options.onConfigWarnings) options.onConfigWarnings(config.warnings);
  else for (const warning of config.warnings) options.log.write('warn', warning);
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
    facts: { STACK: stack, PROJECT: config.project },
  });
  const remote = options.viaRemote ? config.remote : undefined;
  let followUp: FollowUp | undefined;
  if (earlier !== undefined) {
    if (remote !== undefined) {
      throw new InputError(`Follow-ups through a shared remote (${remote}) are not supported yet`, { hint: `\`tsk run --follow-up ${earlier.id}\` runs it here` });
    }
    ({ followUp, instructions } = await prepareFollowUp(earlier, repo.mainWorkdir, instructions, config.task.agent));
  }
  if (options.edit) instructions = await options.edit(instructions);
  if (!instructions.trim()) throw new InputError('The instructions are empty: nothing for the agent to do');

  const id = newTaskId();
  const spec: TaskSpec = {
    version: TASK_SPEC_VERSION,
    id,
    name,
    type,
    agent: config.task.agent,
    stack,
    project: config.project,
    instructions,
    repoPath: repo.mainWorkdir,
    // The snapshot comes last; until then the spec is checked with a placeholder commit.
    source: { kind: 'local', repoPath: repo.mainWorkdir, ref: snapshotRef(id), commit: followUp?.commit ?? '0'.repeat(40) },
    branch: resultBranchName(type, name, id),
    parentBranch: options.branch ?? repo.currentBranch,
    parentTaskId: options.parentTaskId,
    ...(followUp !== undefined ? { followUp } : {}),
    // Left out when empty: a worker that knows no labels still runs the task.
    ...(options.requires !== undefined && options.requires.length > 0 ? { requires: [...options.requires] } : {}),
    config: config.task,
    createdAt: new Date().toISOString(),
    signer: options.signer,
  };
  checkLimits(spec);
  const startAt = followUp && { commit: followUp.commit, branch: followUp.branch };
  const snapshot = await createSnapshot({ repoPath: repo.workdir, taskId: id, branch: options.branch, startAt, log: options.log });
  const local = { ...spec, repoPath: snapshot.repoPath, parentBranch: snapshot.parentBranch };
  if (remote === undefined) return { ...local, source: { kind: 'local', repoPath: snapshot.repoPath, ref: snapshot.ref, commit: snapshot.commit } };
  try {
    await pushSnapshot(snapshot.repoPath, remote, id, options.log);
  } catch (error) {
    await deleteSnapshotRef(snapshot.repoPath, id).catch(() => undefined);
    throw error;
  }
  return { ...local, source: { kind: 'remote', url: remote, ref: snapshot.ref, commit: snapshot.commit } };
}

/** A task a worker would refuse (too large, a name git rejects…) is refused here, where the user can fix it. */
function checkLimits(spec: TaskSpec): void {
  try {
    validateTaskSpec(JSON.parse(JSON.stringify(spec)), spec.id);
  } catch (error) {
    if (!(error instanceof TaskPayloadError)) throw error;
    throw new InputError(`This task cannot be queued: ${summarizeProblems(error.problems)}`);
  }
}
