import { INSTRUCTIONS_PATH, PLACEHOLDER_CREDENTIAL, type Agent } from '../agent.js';
import { ClaudeLogParser } from './claude-log-parser.js';

/** Claude Code in non-interactive stream-json mode. */
export const claudeAgent: Agent = {
  name: 'claude',
  command: (options = {}) => {
    const maxTurns = options.maxTurns === undefined ? '' : ` --max-turns ${Math.floor(options.maxTurns)}`;
    return ['sh', '-c', `exec claude -p --verbose --output-format stream-json --dangerously-skip-permissions${maxTurns} < ${INSTRUCTIONS_PATH}`];
  },
  takesMaxTurns: true,
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
