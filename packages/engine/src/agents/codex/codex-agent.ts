import { INSTRUCTIONS_PATH, type Agent } from '../agent.js';
import { CodexLogParser } from './codex-log-parser.js';

/** OpenAI Codex CLI in non-interactive JSON mode. */
export const codexAgent: Agent = {
  name: 'codex',
  command: () => ['sh', '-c', `exec codex exec --dangerously-bypass-approvals-and-sandbox --json - < ${INSTRUCTIONS_PATH}`],
  credentials: {
    // auth.json holds the login (ChatGPT tokens or an API key); config.toml and the sessions stay home.
    loginFiles: [{ path: '.codex/auth.json' }],
    // What `codex login --with-api-key` writes.
    apiKey: (key) => ({ env: [], files: [{ path: '.codex/auth.json', content: `${JSON.stringify({ OPENAI_API_KEY: key })}\n` }] }),
  },
  env: () => [],
  createLogParser: () => new CodexLogParser(),
};
