import { INSTRUCTIONS_PATH, plainLogParser, type Agent } from './agent.js';

/**
 * Runs the instructions as a bash script (`bash -e`) in the repository: deterministic tasks for demos,
 * tests and smoke checks.
 */
export const scriptAgent: Agent = {
  name: 'script',
  command: () => ['bash', '-e', INSTRUCTIONS_PATH],
  takesMaxTurns: false,
  env: () => [],
  createLogParser: plainLogParser,
};
