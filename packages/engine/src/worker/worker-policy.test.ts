import { describe, expect, it } from 'vitest';
import type { WorkerPolicy } from '../config/index.js';
import { taskConfigFixture, taskSpecFixture } from '../test-utils/task-spec-fixture.js';
import { policyRefusal, sourceRefusal } from './worker-policy.js';

const strict: WorkerPolicy = { allowBindMounts: false, allowDevices: false, allowPrivileged: false, allowNoNetworkIsolation: false, requeueLost: false };
const lenient: WorkerPolicy = { ...strict, allowBindMounts: true, allowDevices: true, allowNoNetworkIsolation: true };

describe('policyRefusal', () => {
  it('accepts a plain isolated task', () => {
    expect(policyRefusal(taskSpecFixture(), strict)).toBeUndefined();
  });

  it('refuses host bind mounts, devices and no isolation unless the worker allows them, naming the setting', () => {
    const config = taskConfigFixture({
      volumes: [
        { kind: 'bind', host: '/etc', container: '/host-etc', readonly: true },
        { kind: 'named', name: 'tsk-cache', container: '/cache', readonly: false },
      ],
      devices: ['/dev/kvm'],
      networkIsolation: false,
    });
    const refusal = policyRefusal({ config }, strict);
    expect(refusal).toContain('host bind mounts (/etc; allow_bind_mounts)');
    expect(refusal).toContain('devices (/dev/kvm; allow_devices)');
    expect(refusal).toContain('no network isolation (allow_no_network_isolation)');
    expect(policyRefusal({ config }, lenient)).toBeUndefined();
  });

  it('allows tsk-managed named volumes: they are not the worker’s disks', () => {
    const config = taskConfigFixture({ volumes: [{ kind: 'named', name: 'tsk-cache', container: '/cache', readonly: false }] });
    expect(policyRefusal({ config }, strict)).toBeUndefined();
  });
});

describe('sourceRefusal', () => {
  it('explains that a local snapshot only works on the machine that holds the repository', () => {
    const spec = taskSpecFixture({ source: { kind: 'local', repoPath: '/nowhere/repo', ref: 'r', commit: 'a'.repeat(40) } });
    expect(sourceRefusal(spec, 'box')).toMatch(/repository \/nowhere\/repo is not on this worker's machine \(box\).*\[remote\] url/);
    expect(sourceRefusal(taskSpecFixture({ source: { kind: 'local', repoPath: '/', ref: 'r', commit: 'a'.repeat(40) } }), 'box')).toBeUndefined();
  });
});
