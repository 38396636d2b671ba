import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { DiffUnavailableError } from '../errors/index.js';
import type { StoredTask, TaskRecord } from '../queue/index.js';
import { createSigningKey, KeyRing, signResult, signTask, type SigningKey } from '../signing/index.js';
import { git, isolateGitConfig, makeRepo, tempDir, writeFiles } from '../test-utils/git-fixtures.js';
import { taskSpecFixture } from '../test-utils/task-spec-fixture.js';
import { readTaskDiff, taskDiffSource } from './task-diff-source.js';

const ID = 'Abc_1234';
let alice: SigningKey;
let mallory: SigningKey;
let worker: SigningKey;

beforeEach(async () => {
  await isolateGitConfig();
  const dir = await tempDir('tsk-keys-');
  alice = await createSigningKey(join(dir, 'alice'), { name: 'alice@laptop' });
  mallory = await createSigningKey(join(dir, 'mallory'), { name: 'mallory' });
  worker = await createSigningKey(join(dir, 'worker'), { name: 'worker' });
});

/** Alice's ring: her own key and the worker that runs her tasks. */
const ring = () => new KeyRing({ name: 'alice', publicKey: alice.publicKey, owner: true }, [{ name: 'worker', publicKey: worker.publicKey, owner: false }]);

function record(overrides: Partial<TaskRecord> = {}): TaskRecord {
  return {
    id: ID, status: 'COMPLETE', name: 'demo', type: 'generic', agent: 'script', stack: 'default', project: 'demo', parent: undefined,
    createdAt: '2025-01-01T00:00:00.000Z', worker: 'w1', startedAt: undefined, finishedAt: undefined, branch: 'tsk/generic/demo/Abc_1234',
    commit: undefined, error: undefined, summary: undefined, cancelRequested: false, noNetworkIsolation: false, signer: 'alice@laptop',
    baseCommit: undefined, requires: [], note: undefined, resultSignature: undefined, resultSigner: undefined, remote: undefined,
    delayedUntil: undefined, delays: 0, usage: {}, ...overrides,
  };
}

/** A task of `repo` signed by `signer`, ended COMPLETE from `base` to `head`, its result signed by the worker. */
function storedTask(repo: string, base: string, head: string, signer: SigningKey = alice, resultBranch?: string): StoredTask {
  const spec = taskSpecFixture({ repoPath: repo, source: { kind: 'local', repoPath: repo, ref: `refs/tsk/snapshots/${ID}`, commit: base }, signer: { name: signer.name, key: signer.publicKey } });
  const result = signResult({ taskId: ID, status: 'COMPLETE', baseCommit: base, commit: head, branch: resultBranch ?? spec.branch }, worker);
  return { job: signTask(spec, signer).job, record: record({ baseCommit: base, commit: head, branch: resultBranch ?? spec.branch, resultSignature: result.signature, resultSigner: result.signer }) };
}

async function repoWithResult(): Promise<{ repo: string; base: string; head: string }> {
  const repo = await makeRepo({ 'a.txt': 'a\n' });
  const base = git(repo, 'rev-parse', 'HEAD');
  await writeFiles(repo, { 'a.txt': 'a\nb\n' });
  git(repo, 'commit', '--quiet', '-am', 'result');
  return { repo, base, head: git(repo, 'rev-parse', 'HEAD') };
}

function reasonOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof DiffUnavailableError) return error.reason;
    throw error;
  }
  return undefined;
}

describe('taskDiffSource', () => {
  it('reads from the signed spec’s repository, between the worker-signed start and result', async () => {
    const { repo, base, head } = await repoWithResult();
    expect(taskDiffSource(storedTask(repo, base, head), ID, ring())).toEqual({ repoPath: repo, base, head, branch: 'tsk/generic/demo/Abc_1234', resultVerified: true });
    const diff = await readTaskDiff(storedTask(repo, base, head), ID, ring());
    expect(diff.files).toEqual([{ path: 'a.txt', added: 1, removed: 0, binary: false }]);
    expect(diff.branch).toBe('tsk/generic/demo/Abc_1234');
    expect(diff.patch).toContain('+b');
  });

  it('names the branch the signed result went to (a follow-up that fast-forwarded its earlier task’s)', async () => {
    const { repo, base, head } = await repoWithResult();
    expect(taskDiffSource(storedTask(repo, base, head, alice, 'tsk/generic/earlier/Xyz_9876'), ID, ring()).branch).toBe('tsk/generic/earlier/Xyz_9876');
  });

  it('refuses a job that does not verify against the user’s keys (signed by a stranger, or altered)', async () => {
    const { repo, base, head } = await repoWithResult();
    expect(reasonOf(() => taskDiffSource(storedTask(repo, base, head, mallory), ID, ring()))).toBe('untrusted');
    const stored = storedTask(repo, base, head);
    const job = stored.job as { version: number; spec: string; signature: string };
    const altered = { ...job, spec: job.spec.replace(repo, '/etc') };
    expect(reasonOf(() => taskDiffSource({ ...stored, job: altered }, ID, ring()))).toBe('untrusted');
  });

  it('says when there is no task, no result yet, or no result commit', async () => {
    const { repo, base, head } = await repoWithResult();
    expect(reasonOf(() => taskDiffSource({ job: undefined, record: undefined }, ID, ring()))).toBe('missing');
    const stored = storedTask(repo, base, head);
    expect(reasonOf(() => taskDiffSource({ ...stored, record: record({ status: 'RUNNING', baseCommit: base }) }, ID, ring()))).toBe('no-result');
    expect(reasonOf(() => taskDiffSource({ ...stored, record: record({ status: 'COMPLETE', baseCommit: base }) }, ID, ring()))).toBe('no-result');
  });

  it('takes an unsigned result’s commits from the record only when they are full hashes', async () => {
    const { repo, base, head } = await repoWithResult();
    const stored = storedTask(repo, base, head);
    const unsigned = { ...stored, record: record({ baseCommit: base, commit: head }) };
    expect(taskDiffSource(unsigned, ID, ring()).resultVerified).toBe(false);
    expect(reasonOf(() => taskDiffSource({ ...stored, record: record({ baseCommit: base, commit: '--output=/tmp/x' }) }, ID, ring()))).toBe('no-result');
  });

  it('says the repository is on another machine when its path is not here, and not fetched when the result is missing', async () => {
    const { repo, base, head } = await repoWithResult();
    const elsewhere = join(repo, 'not-here');
    const stored = storedTask(elsewhere, base, head);
    const error = (() => {
      try {
        taskDiffSource(stored, ID, ring());
      } catch (caught) {
        return caught as DiffUnavailableError;
      }
      return undefined;
    })();
    expect(error?.reason).toBe('elsewhere');
    expect(error?.userMessage).toMatch(/another machine.*tsk fetch/);
    const other = await makeRepo({ 'x.txt': 'x\n' });
    await expect(readTaskDiff(storedTask(other, base, head), ID, ring())).rejects.toMatchObject({ reason: 'not-fetched', hint: `\`tsk fetch ${ID}\` brings it home` });
  });
});
