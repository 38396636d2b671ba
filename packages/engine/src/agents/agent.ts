import type { EnvVar } from '../config/resolved-config.js';
import type { AgentName } from '../model/agent-name.js';

/** Where the instructions file is mounted (read-only) in every sandbox. */
export const INSTRUCTIONS_PATH = '/tsk/instructions.md';

/** A file placed in the sandbox user's home, by its path relative to that home (`.codex/auth.json`). */
export interface HomeFile {
  path: string;
  content: string;
}

/**
 * How an agent authenticates. A task never gets the user's agent folders (they hold every past session,
 * and hooks or MCP servers planted there would run on the host next time): it gets its own copy of only
 * the login files, or an API key, and nothing it writes there goes back.
 */
export interface AgentCredentials {
  /**
   * The login files, by path under the user's home; `keep` trims a file to what authenticates (a
   * settings file holding more than the login).
   */
  loginFiles: readonly { path: string; keep?: (content: string) => string }[];
  /** What the sandbox gets for an API key. */
  apiKey(key: string): { env: EnvVar[]; files: HomeFile[] };
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

/** One coding agent: how it is installed (image layer `dockerfiles/agent/<name>`), started and read. */
export interface Agent {
  readonly name: AgentName;
  /** The command run in the repository inside the sandbox. */
  command(): string[];
  /** How it authenticates; undefined for agents that need no credential. */
  readonly credentials?: AgentCredentials;
  env(): EnvVar[];
  createLogParser(): AgentLogParser;
}

/** A parser that shows every line as it is and reports nothing. */
export function plainLogParser(): AgentLogParser {
  return { parse: (line) => [line], outcome: () => ({ success: undefined, summary: undefined }) };
}
