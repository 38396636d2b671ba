import { Flags } from '@oclif/core';
import { InputError, type AgentName } from '@tsk/engine/core';
import { parseAgent } from '../task-flags.js';

/** `-a/--agent` on `tsk add`: a comma list makes one task per entry. */
export const multiAgentFlag = {
  agent: Flags.string({
    char: 'a',
    description: 'Agent: claude, codex, no-op or script; a comma list queues one task per entry (-a claude,codex compares two agents, -a claude,claude asks one twice).',
  }),
};

/**
 * The agents asked for, in order, one per task; `[undefined]` (the configured agent) when none. A repeat
 * is kept: as in TSK, `claude,claude` asks for two attempts at the same task.
 */
export function parseAgents(value: string | undefined): (AgentName | undefined)[] {
  if (value === undefined) return [undefined];
  const names = value.split(',').map((name) => name.trim());
  if (names.some((name) => name === '')) throw new InputError(`--agent "${value}" has an empty entry`);
  return names.map((name) => parseAgent(name));
}
