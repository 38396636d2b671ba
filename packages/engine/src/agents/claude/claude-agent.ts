import { commandReadingInstructions, isAgentSessionId, PLACEHOLDER_CREDENTIAL, type Agent } from '../agent.js';
import { ClaudeLogParser } from './claude-log-parser.js';

/** Claude Code in non-interactive stream-json mode. */
export const claudeAgent: Agent = {
  name: 'claude',
  command: (options = {}) =>
    commandReadingInstructions([
      'claude',
      '-p',
      '--verbose',
      '--output-format',
      'stream-json',
      '--dangerously-skip-permissions',
      ...(options.maxTurns === undefined ? [] : ['--max-turns', String(Math.floor(options.maxTurns))]),
      ...(options.model === undefined ? [] : ['--model', options.model]),
      // Checked again here: the id reaches a command line.
      ...(isAgentSessionId(options.resumeSessionId) ? ['--resume', options.resumeSessionId] : []),
    ]),
  takesMaxTurns: true,
  // Claude keeps each session's transcript in `~/.claude/projects/<cwd, every character but letters and
  // digits made '-'>/<session id>.jsonl`, and `--resume <id>` reads it from there.
  keepsSession: {
    homeDir: '.claude',
    transcript: (cwd, sessionId) => `.claude/projects/${cwd.replace(/[^A-Za-z0-9]/g, '-')}/${sessionId}.jsonl`,
  },
  api: {
    // An API key by name (the gateway puts on the real key or login token). Onboarding done, and the
    // placeholder approved as a custom key (Claude asks about keys it has not seen, by their last 20
    // characters), so it starts without a question.
    sandbox: (baseUrl) => ({
      env: [
        { name: 'ANTHROPIC_BASE_URL', value: baseUrl },
        { name: 'ANTHROPIC_API_KEY', value: PLACEHOLDER_CREDENTIAL },
      ],
      files: [
        {
          path: '.claude.json',
          content: `${JSON.stringify({ hasCompletedOnboarding: true, customApiKeyResponses: { approved: [PLACEHOLDER_CREDENTIAL.slice(-20)], rejected: [] } })}\n`,
        },
      ],
    }),
  },
  env: () => [
    // Nothing but the API: no update checks, telemetry or error reports (the proxy would deny them anyway).
    { name: 'DISABLE_AUTOUPDATER', value: '1' },
    { name: 'CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC', value: '1' },
    { name: 'DISABLE_TELEMETRY', value: '1' },
    { name: 'DISABLE_ERROR_REPORTING', value: '1' },
    // Its todo tools (TaskCreate/TaskUpdate), which the log shows as the task's progress.
    { name: 'CLAUDE_CODE_ENABLE_TODO_TOOLS', value: '1' },
  ],
  createLogParser: () => new ClaudeLogParser(),
};
