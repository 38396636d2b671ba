import { INSTRUCTIONS_PATH, PLACEHOLDER_CREDENTIAL, type Agent } from '../agent.js';
import { CodexLogParser } from './codex-log-parser.js';

/** OpenAI Codex CLI in non-interactive JSON mode. */
export const codexAgent: Agent = {
  name: 'codex',
  command: () => ['sh', '-c', `exec codex exec --dangerously-bypass-approvals-and-sandbox --json - < ${INSTRUCTIONS_PATH}`],
  takesMaxTurns: false,
  api: {
    // An API-key login (what `codex login --with-api-key` writes) holding the placeholder; the gateway
    // puts on the real key, or the ChatGPT login's token and sends it to ChatGPT's Codex backend.
    sandbox: (baseUrl) => ({
      env: [
        { name: 'OPENAI_BASE_URL', value: `${baseUrl}/v1` },
        { name: 'OPENAI_API_KEY', value: PLACEHOLDER_CREDENTIAL },
      ],
      files: [{ path: '.codex/auth.json', content: `${JSON.stringify({ OPENAI_API_KEY: PLACEHOLDER_CREDENTIAL })}\n` }],
    }),
  },
  env: () => [],
  createLogParser: () => new CodexLogParser(),
};
