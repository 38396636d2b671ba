export { commandReadingInstructions, INSTRUCTIONS_PATH, isAgentSessionId, type Agent, type AgentApiAccess, type AgentCommandOptions, PLACEHOLDER_CREDENTIAL, type AgentLogParser, type AgentOutcome, type HomeFile } from './agent.js';
export { getAgent } from './registry.js';
export { ClaudeLogParser } from './claude/claude-log-parser.js';
export { CodexLogParser } from './codex/codex-log-parser.js';
