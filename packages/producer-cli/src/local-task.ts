import { homedir } from 'node:os';
// The engine's entry points, not its barrel: creating a task loads no Docker client (`tsk add`).
import { describeLabels, InputError, missingLabels, type LogSink, type TaskSpec } from '@tsk/engine/core';
import { loadConfig } from '@tsk/engine/config';
import type { TaskQueue } from '@tsk/engine/queue';
import { taskSigner } from '@tsk/engine/signing';
import { createTaskSpec, grantTask, type AgentApiEndpoints, type EarlierTask, type TaskGrant } from '@tsk/engine/tasks';
import { printConfigWarnings } from './config-warnings.js';
import { editInEditor } from './editor.js';
import { findEarlierTask } from './follow-up.js';
import { readPrompt, type PromptFlags } from './prompt-input.js';
import { openCliQueue } from './queue/open-cli-queue.js';
import { agentRunOptions, parseAgent, parseRequires } from './task-flags.js';
import { userTrust } from './user-trust.js';

/** The task flags (`taskFlags` and `singleAgentFlag`) of a command that runs its task itself. */
export interface LocalTaskFlags extends PromptFlags {
  type: string;
  name?: string;
  agent?: string;
  stack?: string;
  project?: string;
  repo?: string;
  branch?: string;
  'network-isolation': boolean;
  edit: boolean;
  /** `--requires` (tsk run): labels this machine's `[worker] labels` must have. */
  requires?: string[];
  /** `--model`, `--max-cost`, `--timeout`, `--max-turns` (tsk run). */
  model?: string;
  'max-cost'?: string;
  timeout?: string;
  'max-turns'?: number;
  /** `--follow-up <id>` (tsk run): continue that COMPLETE task. */
  'follow-up'?: string;
}

/**
 * A task this CLI process runs itself (`tsk run`, `tsk shell`): created from the flags (the repository is
 * snapshotted last), signed with the user's key, and granted what the user's own machine gives its owner:
 * their own login, their own environment.
 */
export async function createLocalTask(flags: LocalTaskFlags, log: LogSink): Promise<{ spec: TaskSpec; grant: TaskGrant; agentApi: AgentApiEndpoints; followUp: EarlierTask | undefined; proxyIdleTimeoutMs: number }> {
  const { machine, warnings } = await loadConfig();
  printConfigWarnings(warnings);
  // The task runs here: this machine must be a worker that would take it.
  const requires = parseRequires(flags.requires);
  const missing = missingLabels(requires, machine.worker.labels);
  if (missing.length > 0) {
    throw new InputError(`This machine does not have ${describeLabels(missing)} ([worker] labels in ${machine.userFile})`, {
      hint: `queue it for a worker that has: tsk add --requires ${requires.join(',')}`,
    });
  }
  const trust = await userTrust(machine, log);
  const followUpOf = flags['follow-up'];
  // A task `tsk run` ran is found here; one queued in Redis only then, so a plain follow-up needs no Redis.
  const followUp = followUpOf === undefined ? undefined : await findEarlierTask(followUpOf, machine.dataDir, trust.ring, openQueueOnce);
  const spec = await createTaskSpec({
    repoPath: flags.repo ?? process.cwd(),
    type: flags.type,
    name: flags.name,
    prompt: await readPrompt(flags, log),
    agent: parseAgent(flags.agent),
    stack: flags.stack,
    project: flags.project,
    branch: flags.branch,
    followUp,
    networkIsolation: flags['network-isolation'] ? undefined : false,
    budget: agentRunOptions(flags),
    requires,
    edit: flags.edit ? editInEditor : undefined,
    log,
    onConfigWarnings: printConfigWarnings,
    signer: taskSigner(trust.key),
  });
  trust.announce();
  log.write('tsk', `Task ${spec.id} (${spec.type}, ${spec.stack}, ${spec.agent})`);
  const grant = await grantTask(spec, trust.ring.owner, { policy: machine.worker, environment: process.env, ownerHome: process.env.HOME || homedir() });
  return { spec, grant, agentApi: machine.agentApi, followUp, proxyIdleTimeoutMs: machine.proxy.idleTimeoutMs };
}

/** The queue, opened for one look-up and closed again (a follow-up of a task queued with `tsk add`). */
async function openQueueOnce(): Promise<Pick<TaskQueue, 'stored'>> {
  return {
    stored: async (id) => {
      await using opened = await openCliQueue();
      return opened.queue.stored(id);
    },
  };
}
