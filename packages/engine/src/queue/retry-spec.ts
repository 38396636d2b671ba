import { existsSync } from 'node:fs';
import { newTaskId } from '../common/ids.js';
// Single modules, not the git and trust indexes: those load nodegit and dockerode, which a retry does not need.
import { pinRemoteSnapshot } from '../git/remote.js';
import { snapshotRef } from '../git/snapshot-ref.js';
import { resultBranchName } from '../common/sanitize.js';
import { InputError, TaskRefusedError } from '../errors/index.js';
import { TASK_SPEC_VERSION, validateTaskSpec, type AgentName, type TaskSpec } from '../model/index.js';
import { openSignedJob, peekJob, signTask, taskSigner, type KeyRing, type SignedTask, type SigningKey } from '../signing/index.js';
import { hasImageLayers } from '../trust/job-policy.js';
import { pinSnapshot } from './snapshot-pin.js';
import { verifiedResult, type TaskRecord } from './task-record.js';

/** What `tsk retry` may change; everything else is the original task's. */
export interface RetryOverrides {
  agent?: AgentName;
  name?: string;
  /** Edit the instructions (`--edit`) before the new task is created. */
  edit?: (instructions: string) => Promise<string>;
  /**
   * `--push`: do not run the agent again; push the result the original's worker kept when its own push
   * failed (see {@link keptResult}).
   */
  push?: boolean;
}

/** Who retries: the new task is signed with `key`, and the original must be signed by a key of `ring`. */
export interface RetryTrust {
  key: SigningKey;
  ring: KeyRing;
}

/**
 * Settings of an unsigned task from an older tsk that reach beyond the sandbox: `tsk retry` will not put
 * its own signature on them, since nothing shows who asked for them.
 */
function unverifiableSettings(spec: TaskSpec): string[] {
  const { config } = spec;
  const found: string[] = [];
  if (config.volumes.some((volume) => volume.kind === 'bind')) found.push('host bind mounts');
  if (config.devices.length > 0) found.push('devices');
  if (config.hostPorts.length > 0) found.push('host_ports');
  if (config.squidConf !== undefined) found.push('squid_conf');
  if (!config.networkIsolation) found.push('no network isolation');
  if (hasImageLayers(spec)) found.push('image layers');
  if (config.caCertificates.length > 0) found.push('ca_certificates');
  return found;
}

/**
 * The task to retry, checked: a signed task must verify against the retrier's keys (a record rewritten in
 * Redis must not get the retrier's signature); an unsigned one from an older tsk is accepted only
 * without settings that reach beyond the sandbox.
 *
 * @throws TaskRefusedError saying why it will not be re-signed
 */
export function originalForRetry(job: unknown, id: string, trust: RetryTrust): TaskSpec {
  const { spec: claimed, legacy } = peekJob(job);
  if (!legacy) return openSignedJob(job, trust.ring, id).spec;
  const upgraded = validateTaskSpec(
    {
      ...claimed,
      version: TASK_SPEC_VERSION,
      config: { envFromWorker: [], ...(claimed?.config as object) },
      signer: taskSigner(trust.key),
    },
    id,
  );
  const unverifiable = unverifiableSettings(upgraded);
  if (unverifiable.length > 0) {
    throw new TaskRefusedError(id, `task ${id} was queued by an older tsk, unsigned, and asks for ${unverifiable.join(', ')}: tsk will not sign that for you`, {
      hint: 'queue it again with `tsk add`',
    });
  }
  return upgraded;
}

/**
 * The commit the original task really started from: a chained task started from its parent's result,
 * which its worker signed with the result; otherwise the snapshot in its spec.
 */
function startCommitOf(original: TaskSpec, record: TaskRecord | undefined, ring: KeyRing): string {
  return (record?.id === original.id ? verifiedResult(record, ring)?.baseCommit : undefined) ?? original.source.commit;
}

/**
 * The result a failed push left on the original's worker (`tsk retry --push`): the commit that worker
 * signed for the original, or what the original itself was to push when it was such a retry.
 * @throws InputError when there is none
 */
function keptResult(original: TaskSpec, record: TaskRecord | undefined, ring: KeyRing): { task: string; commit: string } {
  if (original.source.kind !== 'remote') throw new InputError(`task ${original.id} did not go through a shared remote: its result was never to be pushed`);
  const claim = record?.id === original.id ? verifiedResult(record, ring) : undefined;
  if (claim?.status === 'COMPLETE') throw new InputError(`task ${original.id} has no kept result to push: it completed`, { hint: `\`tsk fetch ${original.id}\`` });
  if (original.publishes !== undefined) return original.publishes;
  if (claim?.commit === undefined) {
    throw new InputError(`task ${original.id} has no kept result to push`, {
      hint: 'only a task whose push failed, its result signed by a worker you trust, has one',
    });
  }
  return { task: original.id, commit: claim.commit };
}

/**
 * A new task with the original's instructions and settings (not re-templated, not re-configured), a new
 * id and branch, signed by the retrier. It starts from the commit the original started from (pinned under
 * its own snapshot ref), or, when `keepParent`, from its parent's result like any chained task.
 */
export async function buildRetryTask(
  original: TaskSpec,
  record: TaskRecord | undefined,
  overrides: RetryOverrides,
  keepParent: boolean,
  trust: RetryTrust,
): Promise<SignedTask> {
  const publishes = overrides.push ? keptResult(original, record, trust.ring) : undefined;
  // A push of a kept result is no new work: it starts nowhere but where the original started.
  if (publishes !== undefined) keepParent = false;
  const id = newTaskId();
  const name = overrides.name ?? original.name;
  const agent = overrides.agent ?? original.agent;
  const instructions = overrides.edit ? await overrides.edit(original.instructions) : original.instructions;
  if (!instructions.trim()) throw new InputError('The instructions are empty: nothing for the agent to do');
  const commit = startCommitOf(original, record, trust.ring);
  const ref = snapshotRef(id);
  const { source } = original;
  // A chained retry's start is derived from its parent's result when it runs; its snapshot ref is pinned then.
  if (!keepParent && source.kind === 'local') await pinSnapshot(source.repoPath, id, commit);
  if (!keepParent && source.kind === 'remote') {
    // The original's snapshot ref on the remote holds where it started (its worker moved it there when it was chained).
    const here = existsSync(original.repoPath) ? original.repoPath : undefined;
    await pinRemoteSnapshot({ repoPath: here, url: source.url, from: snapshotRef(original.id), taskId: id, commit });
  }
  const spec: TaskSpec = {
    ...original,
    id,
    name,
    agent,
    config: { ...original.config, agent },
    instructions,
    source: source.kind === 'local' ? { kind: 'local', repoPath: source.repoPath, ref, commit } : { kind: 'remote', url: source.url, ref, commit },
    branch: resultBranchName(original.type, name, id),
    parentTaskId: keepParent ? original.parentTaskId : undefined,
    publishes,
    createdAt: new Date().toISOString(),
    signer: taskSigner(trust.key),
  };
  return signTask(validateTaskSpec(spec, id), trust.key);
}
