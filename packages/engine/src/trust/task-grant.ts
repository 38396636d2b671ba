import { keyFileCredential, ownerCredential, type AgentCredential } from '../agent-api/index.js';
import type { EnvVar, TaskConfig, WorkerPolicy } from '../config/index.js';
import { TaskRefusedError } from '../errors/index.js';
import type { TaskSpec } from '../model/index.js';
import type { TrustedSigner } from '../signing/index.js';

/** The limits a task runs under: its own, lowered to the machine's ceilings. */
export interface TaskBudget {
  maxCostUsd?: number;
  timeoutSeconds?: number;
  maxTurns?: number;
}

/**
 * What the machine running a task gives it beyond its spec, decided by who signed it: the values of its
 * `env_from_worker` variables (secrets never travel through the queue), the agent's credential (held by
 * the runner's gateway: the sandbox gets a placeholder) and its budget. The owner's tasks get the owner's
 * own key or login; other signers' tasks get the team key the policy names, never the owner's login.
 */
export interface TaskGrant {
  env: EnvVar[];
  /** Undefined for agents that need none (no-op, script). */
  credential?: AgentCredential;
  budget: TaskBudget;
}

/** Nothing beyond the spec. */
export const NO_GRANT: TaskGrant = { env: [], budget: {} };

export interface GrantContext {
  policy: WorkerPolicy;
  /** The environment `env_from_worker` and the owner's API keys are read from (the worker's own). */
  environment: NodeJS.ProcessEnv;
  /** The home holding the owner's agent logins (`~/.claude`, `~/.codex`). */
  ownerHome: string;
}

const LOGIN_COMMAND = { claude: 'claude login', codex: 'codex login' } as const;
const KEY_VARIABLE = { claude: 'ANTHROPIC_API_KEY', codex: 'OPENAI_API_KEY' } as const;

async function agentCredential(spec: TaskSpec, signer: TrustedSigner, context: GrantContext): Promise<AgentCredential | undefined> {
  const agent = spec.agent;
  if (agent !== 'claude' && agent !== 'codex') return undefined;
  if (signer.owner) {
    const own = await ownerCredential(agent, context.ownerHome, context.environment);
    if (own !== undefined) return own;
  }
  const keyFile = context.policy.teamCredentials[agent];
  if (keyFile !== undefined) {
    const team = await keyFileCredential(agent, keyFile);
    if (team === undefined) throw new TaskRefusedError(spec.id, `the team credential file ${keyFile} ([worker] team_credentials.${agent}) is missing or empty`);
    return team;
  }
  if (signer.owner) {
    throw new TaskRefusedError(spec.id, `No ${agent} credential on this machine: ${agent} tasks need a login or an API key`, {
      hint: `run \`${LOGIN_COMMAND[agent]}\`, or set ${KEY_VARIABLE[agent]} where the task runs`,
    });
  }
  throw new TaskRefusedError(spec.id, `this worker has no ${agent} credential for tasks of ${signer.name}`, {
    hint: `its owner can name a team API key file in [worker] team_credentials.${agent}`,
  });
}

/** The lower of a task's limit and the machine's ceiling; the ceiling alone when the task sets none. */
function lowest(limit: number | undefined, ceiling: number | undefined): number | undefined {
  if (limit === undefined) return ceiling;
  return ceiling === undefined ? limit : Math.min(limit, ceiling);
}

/** A task's budget under this machine's ceilings (`[worker] max_cost_usd`, `max_timeout`), whoever signed it. */
export function taskBudget(config: Pick<TaskConfig, 'maxCostUsd' | 'timeoutSeconds' | 'maxTurns'>, policy: Pick<WorkerPolicy, 'maxCostUsd' | 'maxTimeoutSeconds'>): TaskBudget {
  const budget: TaskBudget = {};
  const maxCostUsd = lowest(config.maxCostUsd, policy.maxCostUsd);
  const timeoutSeconds = lowest(config.timeoutSeconds, policy.maxTimeoutSeconds);
  if (maxCostUsd !== undefined) budget.maxCostUsd = maxCostUsd;
  if (timeoutSeconds !== undefined) budget.timeoutSeconds = timeoutSeconds;
  if (config.maxTurns !== undefined) budget.maxTurns = config.maxTurns;
  return budget;
}

/**
 * The grant of one task. @throws TaskRefusedError when a variable it needs is not set where it runs, or
 * the agent has no credential here (before any image is built).
 */
export async function grantTask(spec: TaskSpec, signer: TrustedSigner, context: GrantContext): Promise<TaskGrant> {
  const env: EnvVar[] = [];
  for (const name of spec.config.envFromWorker) {
    const value = context.environment[name];
    if (value === undefined) {
      throw new TaskRefusedError(spec.id, `env_from_worker ${name} is not set in the environment of the machine that runs the task`, {
        hint: `set ${name} where the worker (or tsk run) runs`,
      });
    }
    env.push({ name, value });
  }
  const credential = await agentCredential(spec, signer, context);
  return { env, ...(credential === undefined ? {} : { credential }), budget: taskBudget(spec.config, context.policy) };
}
