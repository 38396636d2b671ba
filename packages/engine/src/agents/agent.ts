import type { EnvVar } from '../config/resolved-config.js';
import type { AgentName } from '../model/agent-name.js';

/** Where the instructions file is mounted (read-only) in every sandbox. */
export const INSTRUCTIONS_PATH = '/tsk/instructions.md';

/** A host path made available in the sandbox. */
export interface AgentMount {
  source: string;
  target: string;
  readOnly: boolean;
}

/** What the agent reported about its own run, when it reports anything. */
export interface AgentOutcome {
  /** `false` when the agent itself reported failure even if it exited 0. */
  success: boolean | undefined;
  /** One-line summary (Claude: result, cost, duration, turns; Codex: tokens). */
  summary: string | undefined;
}

/** Turns an agent's raw output lines into readable log lines, and remembers the outcome. */
export interface AgentLogParser {
  /** Lines to show for one raw output line (zero or more). */
  parse(line: string): string[];
  outcome(): AgentOutcome;
}

export interface AgentContext {
  /** The user's home on the host, for agent credentials (`~/.claude`, `~/.codex`). */
  hostHome: string;
}

/** One coding agent: how it is installed (image layer `dockerfiles/agent/<name>`), started and read. */
export interface Agent {
  readonly name: AgentName;
  /** The command run in the repository inside the sandbox. */
  command(): string[];
  /** Host paths to mount (credentials, settings); only those that exist. */
  mounts(context: AgentContext): AgentMount[];
  env(): EnvVar[];
  createLogParser(): AgentLogParser;
}

/** A parser that shows every line as it is and reports nothing. */
export function plainLogParser(): AgentLogParser {
  return { parse: (line) => [line], outcome: () => ({ success: undefined, summary: undefined }) };
}
