/** Agents tsk knows how to run. */
export const AGENT_NAMES = ['claude', 'codex', 'no-op', 'script'] as const;
export type AgentName = (typeof AGENT_NAMES)[number];

export function isAgentName(value: string): value is AgentName {
  return (AGENT_NAMES as readonly string[]).includes(value);
}
