import { Flags } from '@oclif/core';
import { InputError, isAgentName, parseLabelArguments, type AgentName } from '@tsk/engine/core';

/** Flags shared by every command that creates a task (run, shell, add). SPEC §2. */
export const taskFlags = {
  type: Flags.string({ char: 't', description: 'Task template (`generic` = no template, the prompt verbatim).', default: 'generic' }),
  name: Flags.string({ char: 'n', description: 'Task name, used in the result branch (default: the type).' }),
  prompt: Flags.string({ char: 'p', description: 'What the agent should do (fills {{PROMPT}}).', exclusive: ['prompt-file'] }),
  description: Flags.string({ char: 'd', description: 'Deprecated alias of --prompt.', hidden: false, exclusive: ['prompt', 'prompt-file'] }),
  // Read (and reported when unreadable) by readPrompt, so the message names the file in one line.
  'prompt-file': Flags.file({ description: 'Read the prompt from a file.' }),
  edit: Flags.boolean({ char: 'e', description: 'Edit the rendered instructions in $EDITOR before starting (needs a terminal).', default: false }),
  stack: Flags.string({ description: 'Stack layer (default: detected from the repository).' }),
  project: Flags.string({ description: 'Project name (default: the repository directory name).' }),
  repo: Flags.directory({ description: 'Repository to work on (default: the current directory).', exists: true }),
  branch: Flags.string({ description: "Start from this branch's committed state instead of the working tree." }),
  'network-isolation': Flags.boolean({
    description: 'Run behind the proxy with no other network access. --no-network-isolation gives the sandbox a normal network.',
    allowNo: true,
    default: true,
  }),
};

/** The agent's model and budgets (run, add): a budget reached stops the agent, and its work is kept as the branch. */
export const agentRunFlags = {
  model: Flags.string({ description: 'The model the agent uses (claude --model, codex -m), e.g. claude-sonnet-4-5.' }),
  'max-cost': Flags.string({ description: 'Stop the agent once the task has cost this many US dollars (Claude), e.g. 2.50.' }),
  timeout: Flags.string({ description: 'Stop the agent after this wall time: 45s, 90m, 2h.' }),
  'max-turns': Flags.integer({ description: 'Most agent turns (Claude).', min: 1 }),
};

/** Those flags as `createTaskSpec` takes them. */
export function agentRunOptions(flags: { model?: string; 'max-cost'?: string; timeout?: string; 'max-turns'?: number }): { model?: string; maxCost?: string; timeout?: string; maxTurns?: number } {
  return { model: flags.model, maxCost: flags['max-cost'], timeout: flags.timeout, maxTurns: flags['max-turns'] };
}

/** `-a/--agent` for commands that run one task. */
export const singleAgentFlag = {
  agent: Flags.string({ char: 'a', description: 'Agent: claude, codex, no-op or script (default: configured, else claude).' }),
};

/** `--requires` for commands that make a task a worker runs (add, run). */
export const requiresFlag = {
  requires: Flags.string({
    description: 'Run only on a worker with this label ([worker] labels), e.g. gpu; repeat or separate with commas.',
    multiple: true,
  }),
};

/** Check `--requires` values: labels of a-z 0-9 . _ -, repeats dropped. */
export function parseRequires(values: readonly string[] | undefined): string[] {
  try {
    return parseLabelArguments(values ?? []);
  } catch (error) {
    throw new InputError(`--requires: ${(error as Error).message}`, { hint: 'a label looks like gpu or arm64' });
  }
}

/** Check an `--agent` value. */
export function parseAgent(value: string | undefined): AgentName | undefined {
  if (value === undefined) return undefined;
  if (!isAgentName(value)) throw new InputError(`Unknown agent "${value}"`, { hint: 'use claude, codex, no-op or script' });
  return value;
}
