import { describe, expect, it } from 'vitest';
import { TaskPayloadError } from '../errors/index.js';
import { taskConfigFixture, taskSpecFixture } from '../test-utils/task-spec-fixture.js';
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

describe('validateTaskSpec', () => {
  it('accepts a spec as createTaskSpec makes it, and extra fields from newer producers', () => {
    const spec = taskSpecFixture();
    expect(validateTaskSpec(spec, spec.id)).toEqual(spec);
    expect(problemsOf({ ...spec, somethingNew: 1 })).toEqual([]);
  });

  it('rejects what is not an object at all with one clear reason', () => {
    expect(problemsOf('hello')).toEqual(['the payload must be a JSON object']);
    expect(problemsOf(null)).toEqual(['the payload must be a JSON object']);
  });

  it('lists every problem, naming the field and the rule', () => {
    const spec = { ...taskSpecFixture(), version: 2, agent: 'gpt', instructions: '', source: { kind: 'ftp', ref: 'x', commit: 'zz' } };
    expect(problemsOf(spec)).toEqual([
      'version must be 1 (got 2)',
      'instructions must not be empty',
      'agent must be claude, codex, no-op or script',
      'source.kind must be "local" or "remote"',
      'source.commit must be a full commit hash',
    ]);
  });

  it('rejects a payload whose id is not the job id (a job must not run someone else’s task)', () => {
    expect(problemsOf(taskSpecFixture(), 'Zzz_9999')).toEqual(['id Abc_1234 does not match the job id']);
  });

  it('checks the config the worker acts on: mounts, devices, limits and isolation', () => {
    const config = {
      ...taskConfigFixture(),
      memoryGb: -1,
      networkIsolation: 'no',
      volumes: [{ kind: 'bind', container: '/x', readonly: false }],
      devices: [3],
      hostPorts: [70000],
      caCertificates: ['/etc/ssl/corp.pem'],
    };
    expect(problemsOf({ ...taskSpecFixture(), config })).toEqual([
      'config.memoryGb must be a positive number',
      'config.networkIsolation must be true or false',
      'config.hostPorts[0] must be a port number',
      'config.volumes[0] must be a { kind: "bind", host } or { kind: "named", name } mount with container and readonly',
      'config.devices[0] must be a device path',
      'config.caCertificates[0] must be a { path, content } certificate',
    ]);
  });

  it('puts the job id and the problems in the error message', () => {
    expect(() => validateTaskSpec({ ...taskSpecFixture(), config: undefined }, 'Abc_1234')).toThrow(
      'Job Abc_1234 is not a valid task: config must be an object',
    );
  });
});
