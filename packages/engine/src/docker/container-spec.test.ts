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
  homeMounts: { '.claude': '/data/tasks/Ab_12345/home/.claude' },
  volumes: [
    { kind: 'named', name: 'tsk-cache', container: '/cache', readonly: false },
    { kind: 'bind', host: '/srv/logs', container: '/logs', readonly: true },
  ],
  devices: [],
  memoryGb: 2,
  cpus: 1.5,
  resolvConfFile: '/data/tasks/Ab_12345/resolv.conf',
  network: {
    networkMode: 'tsk-agent-Ab_12345',
    env: [{ name: 'HTTP_PROXY', value: 'http://proxy:3128' }],
    resolver: { server: '172.30.0.2', hosts: { 'tsk-proxy': '172.30.0.2' } },
    build: { networkMode: 'tsk-agent-Ab_12345', args: {} },
  },
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

  it('should mount the workspace read-write, the instructions read-only, the task’s home copies and the configured volumes', () => {
    expect(spec.HostConfig?.Binds).toBeUndefined();
    expect(spec.HostConfig?.Mounts).toEqual([
      { Type: 'bind', Source: '/data/tasks/Ab_12345/repo', Target: '/workspace/p', ReadOnly: false },
      { Type: 'bind', Source: '/data/tasks/Ab_12345/instructions.md', Target: INSTRUCTIONS_PATH, ReadOnly: true },
      { Type: 'bind', Source: '/data/tasks/Ab_12345/home/.claude', Target: '/home/agent/.claude', ReadOnly: false },
      { Type: 'bind', Source: '/data/tasks/Ab_12345/resolv.conf', Target: '/etc/resolv.conf', ReadOnly: true },
      { Type: 'volume', Source: 'tsk-cache', Target: '/cache', ReadOnly: false },
      { Type: 'bind', Source: '/srv/logs', Target: '/logs', ReadOnly: true },
    ]);
  });

  it('should keep a named volume a volume whatever its name says (never a host path)', () => {
    const hostile = buildSandboxSpec({ ...options, volumes: [{ kind: 'named', name: '/var/run/docker.sock', container: '/sock', readonly: false }] });
    expect(hostile.HostConfig?.Mounts?.at(-1)).toEqual({ Type: 'volume', Source: '/var/run/docker.sock', Target: '/sock', ReadOnly: false });
  });

  it('should put the task and proxy variables in the environment, use the task network and pin its DNS', () => {
    expect(spec.Env).toEqual(['FOO=bar', 'HTTP_PROXY=http://proxy:3128']);
    expect(spec.HostConfig?.NetworkMode).toBe('tsk-agent-Ab_12345');
    expect(spec.HostConfig?.Dns).toEqual(['172.30.0.2']);
    expect(spec.HostConfig?.ExtraHosts).toEqual(['tsk-proxy:172.30.0.2']);
    const open = buildSandboxSpec({ ...options, network: { networkMode: 'bridge', env: [], build: { networkMode: 'bridge', args: {} } } });
    expect(open.HostConfig?.Dns).toBeUndefined();
    expect(open.HostConfig?.Mounts?.some((mount) => mount.Target === '/etc/resolv.conf')).toBe(false);
  });

  it('should attach a TTY and stdin only when interactive', () => {
    expect(spec.Tty).toBe(false);
    expect(spec.OpenStdin).toBe(false);
    const interactive = buildSandboxSpec({ ...options, interactive: true });
    expect(interactive.Tty).toBe(true);
    expect(interactive.OpenStdin).toBe(true);
  });
});
