export { INSTRUCTIONS_PATH, type Agent, type AgentContext, type AgentLogParser, type AgentMount, type AgentOutcome } from './agent.js';
export { getAgent } from './registry.js';
export { ClaudeLogParser } from './claude/claude-log-parser.js';
export { CodexLogParser } from './codex/codex-log-parser.js';
