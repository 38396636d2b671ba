import type { EnvVar } from '../config/resolved-config.js';
import type { AgentName } from '../model/agent-name.js';
import type { AgentUsage } from '../model/task-result.js';

/** Where the instructions file is mounted (read-only) in every sandbox. */
export const INSTRUCTIONS_PATH = '/tsk/instructions.md';

/** A file placed in the sandbox user's home, by its path relative to that home (`.codex/auth.json`). */
export interface HomeFile {
  path: string;
  content: string;
}

/** A credential the sandbox may hold: it opens nothing but tsk's gateway, which puts the real one on. */
export const PLACEHOLDER_CREDENTIAL = 'tsk-placeholder-the-real-key-stays-outside-the-sandbox';

/**
 * How an agent reaches its API: only through tsk's gateway ({@link AgentApiGateway}), which holds the
 * real key or login outside the sandbox. The sandbox gets the gateway's address and a placeholder.
 */
export interface AgentApiAccess {
  /** The environment and home files that point the agent at `baseUrl` (the gateway's bridge) with a placeholder. */
  sandbox(baseUrl: string): { env: EnvVar[]; files: HomeFile[] };
}

/** What a task asks of the agent's command. */
export interface AgentCommandOptions {
  /** Most turns, where the agent takes a limit. */
  maxTurns?: number;
  /**
   * Resume this session of the agent's own (a follow-up of a task whose transcript was kept: Claude's
   * `--resume`). Only for agents with {@link Agent.keepsSession}; a session id ({@link isAgentSessionId}).
   */
  resumeSessionId?: string;
  /** The model (validated: a model name). */
  model?: string;
}

/**
 * An agent command that reads the instructions on stdin: `sh -c 'exec "$0" "$@" < instructions'` with
 * every argument passed as an argument, never spliced into the script.
 */
export function commandReadingInstructions(args: readonly string[]): string[] {
  return ['sh', '-c', `exec "$0" "$@" < ${INSTRUCTIONS_PATH}`, ...args];
}

const SESSION_ID = /^[A-Za-z0-9-]{1,128}$/;

/** Whether `value` can be an agent's session id (Claude's are UUIDs): safe in a file name and a command line. */
export function isAgentSessionId(value: unknown): value is string {
  return typeof value === 'string' && SESSION_ID.test(value);
}

/** What the agent reported about its own run, when it reports anything. */
export interface AgentOutcome {
  /** `false` when the agent itself reported failure even if it exited 0. */
  success: boolean | undefined;
  /** One-line summary (Claude: result, cost, duration, turns; Codex: tokens). */
  summary: string | undefined;
  /** Cost and tokens so far: a running estimate while the agent works, its own report once it ended. */
  usage?: AgentUsage;
  /** The agent's own session id, when it reported a well-formed one (Claude's `system/init` `session_id`). */
  sessionId?: string;
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
  command(options?: AgentCommandOptions): string[];
  /** Whether `maxTurns` reaches the agent (the runner says so when it does not). */
  readonly takesMaxTurns: boolean;
  /**
   * Where the agent keeps its session in the sandbox user's home, to be resumed (`resumeSessionId`):
   * Claude's transcripts under `.claude/projects/`. Undefined for agents that keep none tsk can resume.
   */
  readonly keepsSession?: { homeDir: string; transcript(cwd: string, sessionId: string): string };
  /** How it reaches its API; undefined for agents that need none. */
  readonly api?: AgentApiAccess;
  env(): EnvVar[];
  createLogParser(): AgentLogParser;
}

/** A parser that shows every line as it is and reports nothing. */
export function plainLogParser(): AgentLogParser {
  return { parse: (line) => [line], outcome: () => ({ success: undefined, summary: undefined }) };
}
