import { describe, expect, it } from 'vitest';
import { INSTRUCTIONS_PATH } from '../agents/agent.js';
import { buildSandboxSpec, type SandboxSpecOptions } from './container-spec.js';

const options: SandboxSpecOptions = {
  taskId: 'Ab_12345',
  workerName: 'w1',
  image: 'tsk/p/default/script:abc',
  project: 'p',
  workspaceDir: '/data/tasks/Ab_12345/repo',
  instructionsFile: '/data/tasks/Ab_12345/instructions.md',
  command: ['bash', '-e', INSTRUCTIONS_PATH],
  env: [{ name: 'FOO', value: 'bar' }],
  agentMounts: [{ source: '/home/u/.claude', target: '/home/agent/.claude', readOnly: false }],
  volumes: [
    { kind: 'named', name: 'tsk-cache', container: '/cache', readonly: false },
    { kind: 'bind', host: '/srv/logs', container: '/logs', readonly: true },
  ],
  devices: [],
  memoryGb: 2,
  cpus: 1.5,
  network: { networkMode: 'tsk-agent-Ab_12345', env: [{ name: 'HTTP_PROXY', value: 'http://proxy:3128' }] },
};

describe('buildSandboxSpec', () => {
  const spec = buildSandboxSpec(options);

  it('should run as the agent user in the project workspace, named and labelled after the task', () => {
    expect(spec.name).toBe('tsk-Ab_12345');
    expect(spec.User).toBe('agent');
    expect(spec.WorkingDir).toBe('/workspace/p');
    expect(spec.Labels).toMatchObject({ 'tsk.task': 'Ab_12345', 'tsk.worker': 'w1', 'tsk.managed': 'true' });
  });

  it('should drop every capability, forbid new privileges and limit pids, memory and CPU', () => {
    expect(spec.HostConfig?.CapDrop).toEqual(['ALL']);
    expect(spec.HostConfig?.CapAdd).toBeUndefined();
    expect(spec.HostConfig?.SecurityOpt).toContain('no-new-privileges:true');
    expect(spec.HostConfig?.Privileged).toBeFalsy();
    expect(spec.HostConfig?.PidsLimit).toBeGreaterThan(0);
    expect(spec.HostConfig?.Memory).toBe(2 * 1024 ** 3);
    expect(spec.HostConfig?.NanoCpus).toBe(1.5e9);
  });

  it('should keep no copy of the output on the Docker host (tsk reads it through attach)', () => {
    expect(spec.HostConfig?.LogConfig?.Type).toBe('none');
  });

  it('should mount the workspace read-write, the instructions read-only, and the configured volumes', () => {
    expect(spec.HostConfig?.Binds).toEqual([
      '/data/tasks/Ab_12345/repo:/workspace/p',
      `/data/tasks/Ab_12345/instructions.md:${INSTRUCTIONS_PATH}:ro`,
      '/home/u/.claude:/home/agent/.claude',
      'tsk-cache:/cache',
      '/srv/logs:/logs:ro',
    ]);
  });

  it('should put the task and proxy variables in the environment and use the task network', () => {
    expect(spec.Env).toEqual(['FOO=bar', 'HTTP_PROXY=http://proxy:3128']);
    expect(spec.HostConfig?.NetworkMode).toBe('tsk-agent-Ab_12345');
  });

  it('should attach a TTY and stdin only when interactive', () => {
    expect(spec.Tty).toBe(false);
    expect(spec.OpenStdin).toBe(false);
    const interactive = buildSandboxSpec({ ...options, interactive: true });
    expect(interactive.Tty).toBe(true);
    expect(interactive.OpenStdin).toBe(true);
  });
});
