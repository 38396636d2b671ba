export { INSTRUCTIONS_PATH, type Agent, type AgentCredentials, type AgentLogParser, type AgentOutcome, type HomeFile } from './agent.js';
export { getAgent } from './registry.js';
export { ClaudeLogParser } from './claude/claude-log-parser.js';
export { CodexLogParser } from './codex/codex-log-parser.js';
