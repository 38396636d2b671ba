import { commandReadingInstructions, PLACEHOLDER_CREDENTIAL, type Agent } from '../agent.js';
import { CodexLogParser } from './codex-log-parser.js';

/**
 * Codex's configuration in the sandbox: a model provider of tsk's own at the gateway's bridge (Codex
 * 0.171 ignores `OPENAI_BASE_URL`), over HTTP only (the built-in provider tries a WebSocket first), with the
 * login's key (the placeholder) as a bearer token, and few retries: a rate limit the gateway passes on
 * ends the run, and the task goes back to the queue until the reset. No plugin sync or analytics (they
 * would only be denied), and the plan tool on, for the task's progress in the log.
 */
function codexConfig(baseUrl: string): string {
  return [
    'model_provider = "tsk"',
    '',
    '[model_providers.tsk]',
    'name = "OpenAI through tsk"',
    `base_url = "${baseUrl}/v1"`,
    'wire_api = "responses"',
    'requires_openai_auth = true',
    'supports_websockets = false',
    'request_max_retries = 3',
    'stream_max_retries = 3',
    '',
    '[tools.update_plan]',
    'enabled = true',
    '',
    '[features]',
    'plugins = false',
    '',
    '[analytics]',
    'enabled = false',
    '',
  ].join('\n');
}

/** OpenAI Codex CLI in non-interactive JSON mode. */
export const codexAgent: Agent = {
  name: 'codex',
  command: (options = {}) =>
    commandReadingInstructions([
      'codex',
      'exec',
      '--dangerously-bypass-approvals-and-sandbox',
      '--json',
      ...(options.model === undefined ? [] : ['-m', options.model]),
      '-',
    ]),
  takesMaxTurns: false,
  api: {
    // An API-key login (what `codex login --with-api-key` writes) holding the placeholder; the gateway
    // puts on the real key, or the ChatGPT login's token and sends it to ChatGPT's Codex backend.
    sandbox: (baseUrl) => ({
      env: [],
      files: [
        { path: '.codex/auth.json', content: `${JSON.stringify({ OPENAI_API_KEY: PLACEHOLDER_CREDENTIAL })}\n` },
        { path: '.codex/config.toml', content: codexConfig(baseUrl) },
      ],
    }),
  },
  env: () => [],
  createLogParser: () => new CodexLogParser(),
};
