import { join } from 'node:path';
import { INSTRUCTIONS_PATH, type Agent } from '../agent.js';
import { existingMounts } from '../existing-mounts.js';
import { CodexLogParser } from './codex-log-parser.js';

/** OpenAI Codex CLI in non-interactive JSON mode, with the user's own login (`~/.codex`). */
export const codexAgent: Agent = {
  name: 'codex',
  command: () => ['sh', '-c', `exec codex exec --dangerously-bypass-approvals-and-sandbox --json - < ${INSTRUCTIONS_PATH}`],
  mounts: ({ hostHome }) =>
    existingMounts([{ source: join(hostHome, '.codex'), target: '/home/agent/.codex', readOnly: false }]),
  env: () => [],
  createLogParser: () => new CodexLogParser(),
};
