import { join } from 'node:path';
import { INSTRUCTIONS_PATH, type Agent } from '../agent.js';
import { existingMounts } from '../existing-mounts.js';
import { ClaudeLogParser } from './claude-log-parser.js';

/** Claude Code in non-interactive stream-json mode, with the user's own login (`~/.claude`). */
export const claudeAgent: Agent = {
  name: 'claude',
  command: () => [
    'sh',
    '-c',
    `exec claude -p --verbose --output-format stream-json --dangerously-skip-permissions < ${INSTRUCTIONS_PATH}`,
  ],
  // Read-write: Claude Code refreshes its OAuth token and writes session state there.
  mounts: ({ hostHome }) =>
    existingMounts([
      { source: join(hostHome, '.claude'), target: '/home/agent/.claude', readOnly: false },
      { source: join(hostHome, '.claude.json'), target: '/home/agent/.claude.json', readOnly: false },
    ]),
  env: () => [{ name: 'DISABLE_AUTOUPDATER', value: '1' }],
  createLogParser: () => new ClaudeLogParser(),
};
