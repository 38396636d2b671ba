import { InputError } from '../errors/index.js';
import { AGENT_NAMES, isAgentName } from '../model/agent-name.js';
import type { ConfigLayer } from './config-layer.js';
import { stackName } from './formats.js';

/** Configuration the command line sets: the highest level. Absent fields leave the decision to the files. */
export interface CliConfigOverrides {
  /** `-a/--agent`. Validated here, so the CLI can pass the flag through as typed. */
  agent?: string;
  /** `--stack`. */
  stack?: string;
  /** `false` for `--no-network-isolation`; leave undefined when the flag is not given. */
  networkIsolation?: boolean;
}

/** Checks a stack name given by a caller (flag or auto-detection); `what` names it in the message. */
export function checkStackName(value: string, what: string): string {
  try {
    stackName(value);
  } catch {
    throw new InputError(`${what}: expected a stack name of [a-z0-9._-] characters, got "${value}"`);
  }
  return value;
}

/** The command-line level, with flag values validated ({@link InputError} names the flag). */
export function cliLayer(cli: CliConfigOverrides): ConfigLayer {
  const layer: ConfigLayer = { source: 'command line' };
  if (cli.agent !== undefined) {
    if (!isAgentName(cli.agent)) {
      throw new InputError(`--agent: unknown agent "${cli.agent}"; expected one of ${AGENT_NAMES.join(', ')}`);
    }
    layer.agent = cli.agent;
  }
  if (cli.stack !== undefined) layer.stack = checkStackName(cli.stack, '--stack');
  if (cli.networkIsolation !== undefined) layer.networkIsolation = cli.networkIsolation;
  return layer;
}
