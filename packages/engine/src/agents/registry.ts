import { InputError } from '../errors/index.js';
import { AGENT_NAMES, type AgentName } from '../model/agent-name.js';
import type { Agent } from './agent.js';
import { claudeAgent } from './claude/claude-agent.js';
import { codexAgent } from './codex/codex-agent.js';
import { noOpAgent } from './no-op-agent.js';
import { scriptAgent } from './script-agent.js';

const AGENTS: Record<AgentName, Agent> = {
  claude: claudeAgent,
  codex: codexAgent,
  'no-op': noOpAgent,
  script: scriptAgent,
};

/** The agent registered under `name`, or an error listing the known ones. */
export function getAgent(name: string): Agent {
  const agent = (AGENTS as Record<string, Agent | undefined>)[name];
  if (!agent) throw new InputError(`Unknown agent "${name}"`, { hint: `known agents: ${AGENT_NAMES.join(', ')}` });
  return agent;
}
