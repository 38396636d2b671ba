import { INSTRUCTIONS_PATH, type Agent } from '../agent.js';
import { ClaudeLogParser } from './claude-log-parser.js';

/**
 * The keys of `~/.claude.json` Claude Code needs to start signed in without onboarding. The rest of that
 * file (every project's history, MCP servers, settings) stays on the host.
 */
const CLAUDE_JSON_LOGIN_KEYS = ['oauthAccount', 'userID', 'primaryApiKey', 'customApiKeyResponses', 'hasCompletedOnboarding'];

function keepLoginKeys(content: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(content);
  } catch {
    return '{}\n';
  }
  if (typeof parsed !== 'object' || parsed === null) return '{}\n';
  const kept = Object.fromEntries(Object.entries(parsed).filter(([key]) => CLAUDE_JSON_LOGIN_KEYS.includes(key)));
  return `${JSON.stringify(kept)}\n`;
}

/** Claude Code in non-interactive stream-json mode. */
export const claudeAgent: Agent = {
  name: 'claude',
  command: () => [
    'sh',
    '-c',
    `exec claude -p --verbose --output-format stream-json --dangerously-skip-permissions < ${INSTRUCTIONS_PATH}`,
  ],
  credentials: {
    // The subscription login (OAuth tokens) on Linux, and the account fields of the settings file.
    loginFiles: [{ path: '.claude/.credentials.json' }, { path: '.claude.json', keep: keepLoginKeys }],
    apiKey: (key) => ({
      env: [{ name: 'ANTHROPIC_API_KEY', value: key }],
      files: [{ path: '.claude.json', content: `${JSON.stringify({ hasCompletedOnboarding: true })}\n` }],
    }),
  },
  env: () => [{ name: 'DISABLE_AUTOUPDATER', value: '1' }],
  createLogParser: () => new ClaudeLogParser(),
};
