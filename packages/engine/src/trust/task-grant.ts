import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { getAgent, type HomeFile } from '../agents/index.js';
import type { EnvVar, WorkerPolicy } from '../config/index.js';
import { TaskRefusedError } from '../errors/index.js';
import type { TaskSpec } from '../model/index.js';
import type { TrustedSigner } from '../signing/index.js';

/**
 * What the machine running a task gives it beyond its spec, decided by who signed it: the values of its
 * `env_from_worker` variables (secrets never travel through the queue) and the agent's credentials, as
 * files for the sandbox user's home. The owner's tasks get a copy of the owner's own login; other
 * signers' tasks get the team key the policy names, never the owner's login.
 */
export interface TaskGrant {
  env: EnvVar[];
  homeFiles: HomeFile[];
}

/** Nothing beyond the spec. */
export const NO_GRANT: TaskGrant = { env: [], homeFiles: [] };

export interface GrantContext {
  policy: WorkerPolicy;
  /** The environment `env_from_worker` reads (the worker's own). */
  environment: NodeJS.ProcessEnv;
  /** The home holding the owner's agent logins (`~/.claude`, `~/.codex`). */
  ownerHome: string;
}

async function readIfPresent(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

async function credentialFiles(spec: TaskSpec, signer: TrustedSigner, context: GrantContext): Promise<{ env: EnvVar[]; files: HomeFile[] }> {
  const credentials = getAgent(spec.agent).credentials;
  if (credentials === undefined) return { env: [], files: [] };
  if (signer.owner) {
    const files: HomeFile[] = [];
    for (const file of credentials.loginFiles) {
      const content = await readIfPresent(join(context.ownerHome, file.path));
      if (content !== undefined) files.push({ path: file.path, content: file.keep ? file.keep(content) : content });
    }
    if (files.length > 0) return { env: [], files };
  }
  const keyFile = spec.agent === 'claude' || spec.agent === 'codex' ? context.policy.teamCredentials[spec.agent] : undefined;
  if (keyFile === undefined) {
    if (signer.owner) return { env: [], files: [] };
    throw new TaskRefusedError(spec.id, `this worker has no ${spec.agent} credential for tasks of ${signer.name}`, {
      hint: `its owner can name a team API key file in [worker] team_credentials.${spec.agent}`,
    });
  }
  const key = (await readIfPresent(keyFile))?.trim();
  if (!key) throw new TaskRefusedError(spec.id, `the team credential file ${keyFile} ([worker] team_credentials.${spec.agent}) is missing or empty`);
  return credentials.apiKey(key);
}

/**
 * The grant of one task. @throws TaskRefusedError when a variable it needs is not set where it runs, or
 * a signer other than the owner needs a credential the policy does not name.
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
  const credentials = await credentialFiles(spec, signer, context);
  return { env: [...env, ...credentials.env], homeFiles: credentials.files };
}
