import { TaskRefusedError } from '../errors/index.js';
import { resultRef, snapshotRef } from '../git/index.js';
import type { TaskSpec } from '../model/index.js';
import { pinSnapshot, verifiedResult, type StoredTaskReader } from '../queue/index.js';
import { openSignedJob, type KeyRing } from '../signing/index.js';

/**
 * Where a chained task starts: its parent's result, as the worker that ran the parent signed it — never
 * what the records in Redis say, which anyone with write access can rewrite. The parent's job must verify
 * against this worker's keys too and work on the same repository. The commit is pinned under the child's
 * own snapshot ref, so it outlives the parent's branch. Returns the spec to run (the signed spec with its
 * start filled in).
 *
 * @throws TaskRefusedError saying what could not be verified
 */
export async function chainedStart(spec: TaskSpec, tasks: StoredTaskReader, ring: KeyRing): Promise<TaskSpec> {
  const parentId = spec.parentTaskId;
  if (parentId === undefined) return spec;
  const refuse = (why: string): never => {
    throw new TaskRefusedError(spec.id, `cannot start after parent task ${parentId}: ${why}`);
  };
  const { job, record } = await tasks.stored(parentId);
  if (job === undefined || record === undefined) return refuse('it no longer exists');
  let parent: TaskSpec;
  try {
    parent = openSignedJob(job, ring, parentId).spec;
  } catch (error) {
    return refuse(`its job does not verify (${(error as Error).message})`);
  }
  if (!sameRepository(parent, spec)) return refuse('it works on another repository');
  if (record.status !== 'COMPLETE') return refuse(`it is ${record.status}, not COMPLETE`);
  const claim = record.id === parentId ? verifiedResult(record, ring) : undefined;
  if (claim?.baseCommit === undefined) {
    // Workers on several machines each have their own key: a chain that crosses them needs each to trust the others'.
    const signer = typeof record.resultSigner === 'string' ? record.resultSigner.slice(0, 60) : 'nobody';
    return refuse(`its result is not signed by a worker this one trusts (signed by ${signer}; add that worker's key, from its \`tsk key show\`, to this worker's [worker] trusted_keys)`);
  }
  if (claim.commit !== undefined && claim.branch !== parent.branch) return refuse('its result is malformed');
  const commit = claim.commit ?? claim.baseCommit;
  // git-town: the child's branch builds on the parent's when the parent made one.
  const parentBranch = claim.branch ?? parent.parentBranch;
  if (spec.source.kind === 'remote') {
    // On the remote, the parent's worker left its result under its result ref, and its start under its
    // snapshot ref; the runner fetches it and pins it in this worker's mirror.
    const ref = claim.commit === undefined ? snapshotRef(parentId) : resultRef(parentId);
    return { ...spec, source: { kind: 'remote', url: spec.source.url, ref, commit }, parentBranch };
  }
  await pinSnapshot(spec.repoPath, spec.id, commit);
  return { ...spec, source: { kind: 'local', repoPath: spec.repoPath, ref: snapshotRef(spec.id), commit }, parentBranch };
}

/** Whether two tasks work on one repository: the same local repository, or the same shared remote. */
function sameRepository(a: TaskSpec, b: TaskSpec): boolean {
  if (a.source.kind === 'remote' || b.source.kind === 'remote') {
    return a.source.kind === 'remote' && b.source.kind === 'remote' && a.source.url === b.source.url;
  }
  return a.repoPath === b.repoPath;
}
