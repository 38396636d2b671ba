import { Flags } from '@oclif/core';
import { InputError, type AgentName } from '@tsk/engine';
import { parseAgent } from '../task-flags.js';

/** `-a/--agent` on `tsk add`: a comma list makes one task per agent. */
export const multiAgentFlag = {
  agent: Flags.string({
    char: 'a',
    description: 'Agent: claude, codex, no-op or script; a comma list (-a claude,codex) queues one task per agent.',
  }),
};

/** The agents asked for, in order and without repeats; `[undefined]` (the configured agent) when none. */
export function parseAgents(value: string | undefined): (AgentName | undefined)[] {
  if (value === undefined) return [undefined];
  const names = value.split(',').map((name) => name.trim());
  if (names.some((name) => name === '')) throw new InputError(`--agent "${value}" has an empty entry`);
  return [...new Set(names)].map((name) => parseAgent(name));
}
