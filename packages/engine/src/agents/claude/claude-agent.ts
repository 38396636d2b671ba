import { INSTRUCTIONS_PATH, isAgentSessionId, PLACEHOLDER_CREDENTIAL, type Agent } from '../agent.js';
import { ClaudeLogParser } from './claude-log-parser.js';

/** Claude Code in non-interactive stream-json mode. */
export const claudeAgent: Agent = {
  name: 'claude',
  command: (options = {}) => {
    const maxTurns = options.maxTurns === undefined ? '' : ` --max-turns ${Math.floor(options.maxTurns)}`;
    // Checked again here: the id becomes part of a shell command line.
    const resume = isAgentSessionId(options.resumeSessionId) ? ` --resume ${options.resumeSessionId}` : '';
    return ['sh', '-c', `exec claude -p --verbose --output-format stream-json --dangerously-skip-permissions${maxTurns}${resume} < ${INSTRUCTIONS_PATH}`];
  },
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
  // Nothing but the API: no update checks, telemetry or error reports (the proxy would deny them anyway).
  env: () => [
    { name: 'DISABLE_AUTOUPDATER', value: '1' },
    { name: 'CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC', value: '1' },
  ],
  createLogParser: () => new ClaudeLogParser(),
};
