import { mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InputError } from '../errors/index.js';
import { taskSpecFixture } from '../test-utils/task-spec-fixture.js';
import { earlierFromRunRecord } from './follow-up.js';
import { endedRunRecord, RunRecords, runRecordView, startedRunRecord, type RunRecord } from './run-records.js';

const spec = taskSpecFixture();
const commit = 'c'.repeat(40);
const base = 'a'.repeat(40);

function completed(): RunRecord {
  return endedRunRecord(startedRunRecord(spec), {
    id: spec.id,
    status: 'COMPLETE',
    branch: spec.branch,
    commit,
    baseCommit: base,
    error: undefined,
    summary: 'did it',
    usage: { costUsd: 0.42, inputTokens: 1200, outputTokens: 80 },
    startedAt: '2025-01-01T00:00:01.000Z',
    finishedAt: '2025-01-01T00:00:09.000Z',
  }, 'sess-123');
}

describe('RunRecords', () => {
  let dir: string;
  let records: RunRecords;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tsk-runs-'));
    records = new RunRecords(dir);
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('keeps a record per task and reads it back, listed as a (run) task', async () => {
    await records.save(completed());
    const read = await records.read(spec.id);
    expect(read).toEqual(completed());
    expect(earlierFromRunRecord(read!)).toMatchObject({ id: spec.id, branch: spec.branch, commit, baseCommit: base, agentSessionId: 'sess-123' });
    const { records: listed, skipped } = await records.list();
    expect(skipped).toEqual([]);
    expect(listed.map(runRecordView)).toMatchObject([{ id: spec.id, status: 'COMPLETE', worker: '(run)', branch: spec.branch, usage: { costUsd: 0.42, inputTokens: 1200 } }]);
    expect(await records.read('Zzz_9999')).toBeUndefined();
  });

  it('refuses a record tampered to move another branch or start elsewhere, naming the file', async () => {
    await records.save(completed());
    const file = join(records.dir, `${spec.id}.json`);
    const good = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    for (const [field, value, problem] of [
      ['branch', 'main', 'branch must be a tsk result branch'],
      ['commit', 'HEAD~1', 'commit must be a full commit hash'],
      ['id', 'Other_12', 'id must be Abc_1234'],
      ['repoPath', '../elsewhere', 'repoPath must be an absolute'],
      ['extra', true, 'unknown field extra'],
      ['usage', { costUsd: -1 }, 'usage must be'],
      ['usage', { costUsd: '$1' }, 'usage must be'],
    ] as const) {
      await writeFile(file, JSON.stringify({ ...good, [field]: value }));
      const error = await records.read(spec.id).catch((caught: unknown) => caught);
      expect(error, field).toBeInstanceOf(InputError);
      expect((error as InputError).message).toContain(problem);
      expect((error as InputError).message).toContain(file);
    }
    expect((await records.list()).skipped).toEqual([spec.id]);
  });

  it('never follows a symbolic link planted under a task id', async () => {
    const elsewhere = join(dir, 'elsewhere.json');
    await records.save(completed());
    await writeFile(elsewhere, await readFile(join(records.dir, `${spec.id}.json`), 'utf8'));
    await rm(join(records.dir, `${spec.id}.json`));
    await symlink(elsewhere, join(records.dir, `${spec.id}.json`));
    await expect(records.read(spec.id)).rejects.toThrow(/is a symbolic link/);
  });

  it('says in one line why a task that did not complete with a result cannot be followed up', () => {
    const failed = { ...completed(), status: 'FAILED' as const, branch: undefined, commit: undefined, error: 'Agent exited with code 1' };
    expect(() => earlierFromRunRecord(failed)).toThrow(`Task ${spec.id} is FAILED (Agent exited with code 1): a follow-up starts from a COMPLETE task's result`);
    expect(() => earlierFromRunRecord({ ...completed(), branch: undefined, commit: undefined })).toThrow(`Task ${spec.id} changed nothing`);
  });
});

describe('RunRecords.sessionFor', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tsk-runs-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('keeps every run’s session, and resumes the earlier one only for the same agent with its transcript kept', async () => {
    const records = new RunRecords(dir);
    const follow = taskSpecFixture({ id: 'Next_123', agent: 'claude' });
    const earlier = { id: spec.id, agent: 'claude', agentSessionId: 'sess-1' };
    expect(records.sessionFor(follow, undefined)).toEqual({ keepTo: join(records.dir, 'Next_123.session.jsonl') });
    expect(records.sessionFor(follow, earlier).resume).toBeUndefined();
    await records.save(completed());
    await writeFile(records.sessionTranscript(spec.id), '{}\n');
    expect(records.sessionFor(follow, earlier).resume).toEqual({ sessionId: 'sess-1', transcriptFile: join(records.dir, `${spec.id}.session.jsonl`) });
    expect(records.sessionFor(follow, { ...earlier, agent: 'codex' }).resume).toBeUndefined();
    expect(() => records.sessionTranscript('../x')).toThrow(/invalid task id/);
  });
});
