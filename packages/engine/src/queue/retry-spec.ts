import { newTaskId } from '../common/ids.js';
import { resultBranchName } from '../common/sanitize.js';
import { InputError } from '../errors/index.js';
import type { AgentName, TaskSpec } from '../model/index.js';
import { sourceAt } from './snapshot-pin.js';

/** What `tsk retry` may change; everything else is the original task's. */
export interface RetryOverrides {
  agent?: AgentName;
  name?: string;
  /** Edit the instructions (`--edit`) before the new task is created. */
  edit?: (instructions: string) => Promise<string>;
}

/**
 * A new task with the original's instructions and settings (not re-templated, not re-configured) and a
 * new id and branch. It starts from the same commit as the original (pinned under its own snapshot ref),
 * or, when `keepParent`, from its parent's result like any chained task.
 */
export async function buildRetrySpec(original: TaskSpec, overrides: RetryOverrides, keepParent: boolean): Promise<TaskSpec> {
  const id = newTaskId();
  const name = overrides.name ?? original.name;
  const agent = overrides.agent ?? original.agent;
  const instructions = overrides.edit ? await overrides.edit(original.instructions) : original.instructions;
  if (!instructions.trim()) throw new InputError('The instructions are empty: nothing for the agent to do');
  // A chained retry gets its start commit pinned when its parent's outcome is known, like any child.
  const source = keepParent ? original.source : await sourceAt(original.source, id, original.source.commit, original.source.ref);
  return {
    ...original,
    id,
    name,
    agent,
    config: { ...original.config, agent },
    instructions,
    source,
    branch: resultBranchName(original.type, name, id),
    parentTaskId: keepParent ? original.parentTaskId : undefined,
    createdAt: new Date().toISOString(),
  };
}
