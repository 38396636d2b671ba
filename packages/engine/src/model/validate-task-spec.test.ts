import { describe, expect, it } from 'vitest';
import { TaskPayloadError } from '../errors/index.js';
import { taskConfigFixture, taskSpecFixture } from '../test-utils/task-spec-fixture.js';
import { TASK_LIMITS } from './task-limits.js';
import { validateTaskSpec } from './validate-task-spec.js';

function problemsOf(payload: unknown, jobId = 'Abc_1234'): readonly string[] {
  try {
    validateTaskSpec(payload, jobId);
  } catch (error) {
    expect(error).toBeInstanceOf(TaskPayloadError);
    return (error as TaskPayloadError).problems;
  }
  return [];
}

const spec = taskSpecFixture();
const withConfig = (config: Record<string, unknown>) => ({ ...spec, config: { ...taskConfigFixture(), ...config } });

describe('validateTaskSpec', () => {
  it('accepts a spec as createTaskSpec makes it', () => {
    expect(validateTaskSpec(spec, spec.id)).toEqual(spec);
  });

  it('rejects what is not an object at all with one clear reason', () => {
    expect(problemsOf('hello')).toEqual(['the payload must be a JSON object']);
    expect(problemsOf(null)).toEqual(['the payload must be a JSON object']);
  });

  it('refuses fields it does not know, so an older worker never ignores what a newer tsk meant', () => {
    expect(problemsOf({ ...spec, privileged: true })).toEqual(['privileged is not a field tsk knows (a newer tsk queued this task? upgrade this worker)']);
    expect(problemsOf(withConfig({ capAdd: ['SYS_ADMIN'] }))).toEqual(['config.capAdd is not a field tsk knows (a newer tsk queued this task? upgrade this worker)']);
  });

  it('lists every problem, naming the field and the rule', () => {
    const bad = { ...spec, version: 1, agent: 'gpt', instructions: '', source: { kind: 'ftp', ref: 'x', commit: 'zz' } };
    expect(problemsOf(bad)).toEqual([
      'version must be 2 (got 1)',
      'agent must be one of claude, codex, no-op, script',
      'instructions must not be empty',
      'source.kind must be "local" or "remote"',
      'config.agent must be the task’s agent',
    ]);
  });

  it('rejects a payload whose id is not the job id (a job must not run someone else’s task)', () => {
    expect(problemsOf(spec, 'Zzz_9999')).toEqual(['id Abc_1234 does not match the job id']);
  });

  it('refuses refs, commits and branches that could reach git as options or other names (finding 1)', () => {
    expect(problemsOf({ ...spec, source: { ...spec.source, ref: '--upload-pack=touch /tmp/pwned' } })).toEqual([
      'source.ref must be the task’s snapshot ref refs/tsk/snapshots/<id>',
    ]);
    expect(problemsOf({ ...spec, source: { ...spec.source, commit: '--output=/etc/passwd' } })).toEqual(['source.commit must be a full commit hash']);
    expect(problemsOf({ ...spec, branch: 'main' })).toEqual(['branch must be tsk/<type>/<name>/<id> for this task']);
    expect(problemsOf({ ...spec, parentBranch: '-c core.pager=sh' })).toEqual(['parentBranch must be a valid branch name']);
    expect(problemsOf({ ...spec, parentTaskId: '../../..' })).toEqual(['parentTaskId must be another task’s id']);
  });

  it('refuses a task that reads one repository and writes another (finding 5)', () => {
    expect(problemsOf({ ...spec, repoPath: '/victim' })).toEqual(['source.repoPath must be the task’s repoPath']);
    expect(problemsOf({ ...spec, repoPath: '/repo/../etc', source: { ...spec.source, repoPath: '/repo/../etc' } })).toEqual([
      'repoPath must be an absolute, normalised path',
    ]);
  });

  it('takes a shared remote only as a URL git fetches without running anything, and without credentials', () => {
    const remote = (url: unknown, extra: Record<string, unknown> = {}) => ({ ...spec, source: { kind: 'remote', url, ref: spec.source.ref, commit: spec.source.commit, ...extra } });
    expect(problemsOf(remote('git@git.example.com:team/app.git'))).toEqual([]);
    expect(problemsOf(remote('ext::sh -c touch% /tmp/pwned'))).toEqual(['source.url names a remote-helper transport (<transport>::…)']);
    expect(problemsOf(remote('--upload-pack=touch /tmp/pwned'))).toEqual(['source.url starts with "-"']);
    expect(problemsOf(remote('https://bob:ghp_secret@git.example.com/app.git'))[0]).toMatch(/^source.url holds credentials/);
    expect(problemsOf(remote(42))).toEqual(['source.url must be a string']);
    expect(problemsOf(remote('/srv/app.git', { repoPath: '/victim' }))).toEqual(['source.repoPath is not a field tsk knows (a newer tsk queued this task? upgrade this worker)']);
    expect(problemsOf({ ...spec, source: { ...spec.source, kind: 'nfs' } })).toEqual(['source.kind must be "local" or "remote"']);
  });

  it('takes a kept result to push only as another task’s id and a commit, on a remote, unchained', () => {
    const remote = { ...spec, source: { kind: 'remote', url: '/srv/team.git', ref: spec.source.ref, commit: spec.source.commit } };
    expect(problemsOf({ ...remote, publishes: { task: 'Kept_123', commit: 'b'.repeat(40) } })).toEqual([]);
    const malformed = 'publishes must be { task, commit }: another task’s id and a full commit hash';
    expect(problemsOf({ ...remote, publishes: { task: '../../etc', commit: 'b'.repeat(40) } })).toEqual([malformed]);
    expect(problemsOf({ ...remote, publishes: { task: 'Kept_123', commit: '--upload-pack=x' } })).toEqual([malformed]);
    expect(problemsOf({ ...remote, publishes: { task: spec.id, commit: 'b'.repeat(40) } })).toEqual([malformed]);
    expect(problemsOf({ ...remote, publishes: { task: 'Kept_123', commit: 'b'.repeat(40), ref: 'refs/heads/main' } })).toEqual([malformed]);
    expect(problemsOf({ ...spec, publishes: { task: 'Kept_123', commit: 'b'.repeat(40) } })).toEqual(['publishes needs a remote source']);
  });

  it('keeps named volumes named and mounts well-formed (finding 3)', () => {
    for (const name of ['/', '/var/run/docker.sock', 'tsk-../x', 'cache']) {
      expect(problemsOf(withConfig({ volumes: [{ kind: 'named', name, container: '/x', readonly: false }] }))).toHaveLength(1);
    }
    expect(problemsOf(withConfig({ volumes: [{ kind: 'named', name: 'tsk-cache', container: '/', readonly: false }] }))).toHaveLength(1);
    expect(problemsOf(withConfig({ volumes: [{ kind: 'bind', host: 'relative', container: '/x', readonly: false }] }))).toHaveLength(1);
    expect(problemsOf(withConfig({ volumes: [{ kind: 'named', name: 'tsk-cache', container: '/cache', readonly: false }] }))).toEqual([]);
    expect(problemsOf(withConfig({ devices: ['/etc/shadow'] }))).toEqual(['config.devices[0] must be a device path under /dev/']);
  });

  it('bounds every size a job author controls', () => {
    const big = 'x'.repeat(TASK_LIMITS.instructionsBytes + 1);
    expect(problemsOf({ ...spec, instructions: big })).toEqual([`instructions must be at most ${TASK_LIMITS.instructionsBytes} bytes`]);
    expect(problemsOf(withConfig({ squidConf: 'x'.repeat(TASK_LIMITS.squidConfBytes + 1) }))).toEqual([`config.squidConf must be at most ${TASK_LIMITS.squidConfBytes} bytes`]);
    expect(problemsOf(withConfig({ hostPorts: Array.from({ length: TASK_LIMITS.hostPorts + 1 }, (_, i) => i + 1) }))).toEqual([
      `config.hostPorts must have at most ${TASK_LIMITS.hostPorts} entries`,
    ]);
    expect(problemsOf(withConfig({ memoryGb: TASK_LIMITS.memoryGb + 1 }))).toEqual([`config.memoryGb must be a number above 0 and at most ${TASK_LIMITS.memoryGb}`]);
    expect(problemsOf({ ...spec, name: 'a\u001b[2Jb' })).toEqual(['name must not contain control characters', 'branch must be tsk/<type>/<name>/<id> for this task']);
  });

  it('checks the config the worker acts on: environment, images, certificates, signer', () => {
    expect(
      problemsOf({
        ...withConfig({
          env: [{ name: 'A=B', value: 'x' }],
          envFromWorker: ['$(id)'],
          baseImage: 'debian:bookworm --privileged',
          caCertificates: [{ path: '/etc/ssl/..', content: 'x' }],
        }),
        signer: { name: 'alice', key: 'ssh-rsa AAAA' },
      }),
    ).toEqual([
      'signer must be { name, key } of a tsk signing key',
      'config.baseImage must be a Docker image reference',
      'config.env[0] must be { name, value } with a variable name and at most 32768 bytes',
      'config.envFromWorker[0] must be an environment variable name',
      'config.caCertificates[0] must be a { path, content } certificate',
    ]);
  });

  it('takes the worker labels a task requires only as a short list of plain labels', () => {
    const needing = { ...spec, requires: ['gpu', 'cuda12'] };
    expect(validateTaskSpec(needing, spec.id)).toEqual(needing);
    expect(problemsOf({ ...spec, requires: 'gpu' })).toEqual(['requires must be a list of worker labels: it is not a list']);
    expect(problemsOf({ ...spec, requires: ['gpu\x1b]0;pwned\x07'] })).toEqual([
      'requires must be a list of worker labels: "gpu\\u001b]0;pwned\\u0007" is not a label (1 to 32 characters of a-z 0-9 . _ -, starting with a letter or digit)',
    ]);
    expect(problemsOf({ ...spec, requires: ['gpu', 'gpu'] })).toEqual(['requires must be a list of worker labels: "gpu" is listed twice']);
    expect(problemsOf({ ...spec, requires: Array.from({ length: 100 }, (_, i) => `l${i}`) })).toEqual(['requires must be a list of worker labels: at most 16 labels']);
  });

  it('puts the job id and the problems in the error message', () => {
    expect(() => validateTaskSpec({ ...spec, config: undefined }, 'Abc_1234')).toThrow('Job Abc_1234 is not a valid task: config must be an object');
  });
});

describe('validateTaskSpec: followUp', () => {
  const commit = 'b'.repeat(40);
  const followUp = { taskId: 'Prev_123', branch: 'tsk/feat/x/Prev_123', commit };
  const followSpec = { ...spec, source: { ...spec.source, commit }, followUp };

  it('accepts a follow-up of another task’s result branch that starts at its result commit', () => {
    expect(problemsOf(followSpec)).toEqual([]);
  });

  it('refuses a follow-up that would move a branch that is not a tsk/ result branch (a follow-up of a follow-up moves the first one’s)', () => {
    const branchProblem = 'followUp.branch must be a tsk result branch tsk/<type>/<name>/<id>';
    expect(problemsOf({ ...followSpec, followUp: { ...followUp, branch: 'tsk/feat/x/First_12' } })).toEqual([]);
    for (const branch of ['main', 'refs/heads/main', 'tsk/feat/x/Prev_12', 'tsk/Feat/x/Prev_123', 'tsk/feat/x/y/Prev_123', 'tsk/feat/--x/Prev_123', '-tsk/feat/x/Prev_123']) {
      expect(problemsOf({ ...followSpec, followUp: { ...followUp, branch } })).toEqual([branchProblem]);
    }
  });

  it('refuses a malformed follow-up: commit, id, extra fields, another start, chains, remotes', () => {
    expect(problemsOf({ ...followSpec, followUp: { ...followUp, commit: 'HEAD' } })).toEqual(['followUp.commit must be a full commit hash']);
    expect(problemsOf({ ...followSpec, followUp: { ...followUp, commit: 'c'.repeat(40) } })).toEqual(['followUp.commit must be the commit the task starts from (source.commit)']);
    expect(problemsOf({ ...followSpec, followUp: { ...followUp, taskId: spec.id, branch: spec.branch } })).toEqual(['followUp must be { taskId, branch, commit } with another task’s id']);
    expect(problemsOf({ ...followSpec, followUp: { ...followUp, force: true } })).toEqual(['followUp must be { taskId, branch, commit } with another task’s id']);
    expect(problemsOf({ ...followSpec, parentTaskId: 'Par_1234' })).toEqual(['followUp cannot be chained (parentTaskId)']);
    const remote = { ...followSpec, source: { kind: 'remote', url: 'https://example.com/r.git', ref: spec.source.ref, commit } };
    expect(problemsOf(remote)).toEqual(['followUp needs a local source (follow-ups through a shared remote are not supported)']);
  });
});
