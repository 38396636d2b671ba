import type Dockerode from 'dockerode';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { createSnapshot } from '../git/index.js';
import type { LogSink } from '../logging/index.js';
import { isolateGitConfig, makeRepo, tempDir } from '../test-utils/git-fixtures.js';
import { TaskWorkspace, workspaceModeFromEnv } from './task-workspace.js';

/** An engine that cannot mount overlay volumes (a rootless or VM-based one): every volume is refused. */
function engineWithoutOverlays(): Dockerode {
  const refuse = () => Promise.reject(new Error('error while mounting volume: permission denied'));
  return {
    info: () => Promise.resolve({ ID: 'rootless-engine' }),
    createVolume: refuse,
    createContainer: refuse,
    getVolume: () => ({ remove: () => Promise.resolve() }),
  } as unknown as Dockerode;
}

/**
 * An engine that mounts overlays (its probe container exits 0), counting the probe containers it runs;
 * each call is a new client, as each `tsk run` process makes its own.
 */
function engineWithOverlays(counter: { probes: number }): Dockerode {
  return {
    info: () => Promise.resolve({ ID: 'ENGINE:WITH:OVERLAYS' }),
    createVolume: () => Promise.resolve({}),
    getVolume: () => ({ remove: () => Promise.resolve() }),
    createContainer: () => {
      counter.probes++;
      return Promise.resolve({ start: () => Promise.resolve(), wait: () => Promise.resolve({ StatusCode: 0 }), remove: () => Promise.resolve() });
    },
  } as unknown as Dockerode;
}

function recordingSink(): LogSink & { lines: string[] } {
  const lines: string[] = [];
  return { lines, write: (source: string, line: string) => void lines.push(`${source}: ${line}`) } as LogSink & { lines: string[] };
}

describe('TaskWorkspace', () => {
  beforeEach(isolateGitConfig);

  it('falls back to a copy where the engine cannot mount a layer, and says so once per process', async () => {
    const repo = await makeRepo({ 'a.txt': 'a\n' });
    const dataDir = await tempDir('tsk-ws-data-');
    const docker = engineWithoutOverlays();
    const log = recordingSink();
    const ids = { uid: process.getuid?.() ?? 1000, gid: process.getgid?.() ?? 1000 };
    for (const id of ['Fb000001', 'Fb000002']) {
      const snapshot = await createSnapshot({ repoPath: repo, taskId: id, branch: undefined });
      const source = { kind: 'local' as const, repoPath: repo, ref: snapshot.ref, commit: snapshot.commit };
      const taskDir = join(dataDir, 'tasks', id);
      const workspace = await TaskWorkspace.prepare({ docker, dataDir, workerName: 'w', ids, mode: 'auto' }, { id, branch: `tsk/t/t/${id}` }, source, taskDir, log);
      const mount = await workspace.mount('img', log);
      expect(mount.volume).toBeUndefined();
      expect(mount.hostDir).toBe(join(taskDir, 'repo'));
      expect(readFileSync(join(mount.hostDir, 'a.txt'), 'utf8')).toBe('a\n');
      expect(workspace.collected).toEqual({ workspaceDir: join(taskDir, 'repo') });
      await workspace.release();
    }
    const said = log.lines.filter((line) => line.includes('copy-on-write workspaces unavailable'));
    expect(said).toHaveLength(1);
    expect(said[0]).toMatch(/^warn: copy-on-write workspaces unavailable: .*permission denied.*; copying$/);
  });

  it('asks an engine whether it mounts overlays once: a later process finds the answer remembered under the data dir', async () => {
    const repo = await makeRepo({ 'a.txt': 'a\n' });
    const dataDir = await tempDir('tsk-ws-data-');
    const counter = { probes: 0 };
    const ids = { uid: process.getuid?.() ?? 1000, gid: process.getgid?.() ?? 1000 };
    for (const id of ['Pr000001', 'Pr000002']) {
      const snapshot = await createSnapshot({ repoPath: repo, taskId: id, branch: undefined });
      const source = { kind: 'local' as const, repoPath: repo, ref: snapshot.ref, commit: snapshot.commit };
      const options = { docker: engineWithOverlays(counter), dataDir, workerName: 'w', ids, mode: 'auto' as const };
      const workspace = await TaskWorkspace.prepare(options, { id, branch: `tsk/t/t/${id}` }, source, join(dataDir, 'tasks', id), recordingSink());
      const mount = await workspace.mount('img', recordingSink());
      expect(mount.volume?.name).toBe(`tsk-ws-${id}`);
      await workspace.release();
    }
    expect(counter.probes).toBe(1);
  });

  it('TSK_WORKSPACES=copy forces the copy path: no shared base is made', async () => {
    expect(workspaceModeFromEnv({ TSK_WORKSPACES: 'copy' })).toBe('copy');
    expect(workspaceModeFromEnv({})).toBe('auto');
    const repo = await makeRepo({ 'a.txt': 'a\n' });
    const dataDir = await tempDir('tsk-ws-data-');
    const snapshot = await createSnapshot({ repoPath: repo, taskId: 'Cp000001', branch: undefined });
    const source = { kind: 'local' as const, repoPath: repo, ref: snapshot.ref, commit: snapshot.commit };
    const ids = { uid: process.getuid?.() ?? 1000, gid: process.getgid?.() ?? 1000 };
    const workspace = await TaskWorkspace.prepare({ docker: engineWithoutOverlays(), dataDir, workerName: 'w', ids, mode: 'copy' }, { id: 'Cp000001', branch: 'tsk/t/t/Cp000001' }, source, join(dataDir, 'tasks', 'Cp000001'), recordingSink());
    expect(existsSync(join(dataDir, 'workspace-bases'))).toBe(false);
    expect(readFileSync(join(workspace.projectDir, 'a.txt'), 'utf8')).toBe('a\n');
    await workspace.release();
  });
});
