import { INSTRUCTIONS_PATH, plainLogParser, type Agent } from './agent.js';

/** Prints the instructions and changes nothing: measures tsk's own overhead and checks templates. */
export const noOpAgent: Agent = {
  name: 'no-op',
  command: () => ['cat', INSTRUCTIONS_PATH],
  takesMaxTurns: false,
  env: () => [],
  createLogParser: plainLogParser,
};
