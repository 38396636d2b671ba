import { parseDuration } from '../common/duration.js';
import { InputError } from '../errors/index.js';
import { AGENT_NAMES, isAgentName } from '../model/agent-name.js';
import type { ConfigLayer } from './config-layer.js';
import { MODEL_NAME, stackName } from './formats.js';

/** Configuration the command line sets: the highest level. Absent fields leave the decision to the files. */
export interface CliConfigOverrides {
  /** `-a/--agent`. Validated here, so the CLI can pass the flag through as typed. */
  agent?: string;
  /** `--stack`. */
  stack?: string;
  /** `false` for `--no-network-isolation`; leave undefined when the flag is not given. */
  networkIsolation?: boolean;
  /** `--max-cost` in US dollars, as typed. */
  maxCost?: string;
  /** `--timeout`, e.g. `90m`. */
  timeout?: string;
  /** `--max-turns`. */
  maxTurns?: number;
  /** `--model`. */
  model?: string;
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
  if (cli.maxCost !== undefined) {
    const dollars = Number(cli.maxCost.replace(/^\$/, ''));
    if (!Number.isFinite(dollars) || dollars <= 0) throw new InputError(`--max-cost: expected an amount in US dollars greater than 0, got "${cli.maxCost}"`);
    layer.maxCostUsd = dollars;
  }
  if (cli.timeout !== undefined) {
    const ms = parseDuration(cli.timeout);
    if (ms === undefined || ms <= 0) throw new InputError(`--timeout: expected a duration such as 45s, 90m or 2h, got "${cli.timeout}"`);
    layer.timeoutSeconds = Math.ceil(ms / 1000);
  }
  if (cli.maxTurns !== undefined) {
    if (!Number.isInteger(cli.maxTurns) || cli.maxTurns < 1) throw new InputError(`--max-turns: expected a whole number of 1 or more, got "${cli.maxTurns}"`);
    layer.maxTurns = cli.maxTurns;
  }
  if (cli.model !== undefined) {
    if (!MODEL_NAME.test(cli.model)) throw new InputError(`--model: expected a model name of letters, digits and . _ : / @ -, got "${cli.model}"`);
    layer.model = cli.model;
  }
  return layer;
}
