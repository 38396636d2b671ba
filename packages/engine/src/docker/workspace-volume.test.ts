import { describe, expect, it } from 'vitest';
import { buildSandboxSpec } from './container-spec.js';
import { overlayPathProblem, workspaceVolumeName, workspaceVolumeSpec } from './workspace-volume.js';

describe('workspace volumes', () => {
  const dirs = { lower: '/data/workspace-bases/abc', upper: '/data/tasks/Tk000001/layer/upper', work: '/data/tasks/Tk000001/layer/work' };

  it('is an overlay of the base and the layer that never points back into the base', () => {
    const spec = workspaceVolumeSpec(workspaceVolumeName('Tk000001'), dirs, { 'tsk.task': 'Tk000001' });
    expect(spec).toEqual({
      Name: 'tsk-ws-Tk000001',
      Driver: 'local',
      DriverOpts: {
        type: 'overlay',
        device: 'overlay',
        o: `lowerdir=${dirs.lower},upperdir=${dirs.upper},workdir=${dirs.work},userxattr,redirect_dir=nofollow,metacopy=off,index=off`,
      },
      Labels: { 'tsk.task': 'Tk000001', 'tsk.managed': 'true', 'tsk.role': 'workspace' },
    });
  });

  it('refuses a folder the option string cannot carry', () => {
    expect(overlayPathProblem(dirs)).toBeUndefined();
    for (const lower of ['/a,upperdir=/etc', '/a:/b', 'relative', '/with space']) expect(overlayPathProblem({ ...dirs, lower })).toBeDefined();
  });

  it('is mounted at the workspace path, with the origin\'s objects read-only at their own path', () => {
    const spec = buildSandboxSpec({
      taskId: 'Tk000001',
      workerName: 'w',
      image: 'img',
      project: 'p',
      workspaceDir: dirs.upper,
      workspaceVolume: 'tsk-ws-Tk000001',
      readOnlyPaths: ['/home/u/repo/.git/objects'],
      instructionsFile: '/x/instructions.md',
      command: ['true'],
      env: [],
      homeMounts: {},
      volumes: [],
      devices: [],
      memoryGb: 1,
      cpus: 1,
      network: { networkMode: 'none', env: [], build: { networkMode: 'none', args: {} } },
    });
    const mounts = spec.HostConfig?.Mounts ?? [];
    expect(mounts).toContainEqual({ Type: 'volume', Source: 'tsk-ws-Tk000001', Target: '/workspace/p', ReadOnly: false });
    expect(mounts).toContainEqual({ Type: 'bind', Source: '/home/u/repo/.git/objects', Target: '/home/u/repo/.git/objects', ReadOnly: true });
    expect(mounts.some((mount) => mount.Source === dirs.upper)).toBe(false);
  });
});
