import { describe, expect, it } from 'vitest';
import type { BuiltInDefaults, ConfigLayer } from './config-layer.js';
import { mergeLayers } from './merge.js';

const builtIn: BuiltInDefaults = { agent: 'claude', memoryGb: 12, cpu: 8, gitTown: false, pushBranches: false, networkIsolation: true };

function layer(source: string, values: Omit<ConfigLayer, 'source'>): ConfigLayer {
  return { source, ...values };
}

describe('mergeLayers', () => {
  it('should use the built-in defaults when no level sets anything', () => {
    const merged = mergeLayers([], builtIn);
    expect(merged).toEqual({
      agent: 'claude',
      stack: undefined,
      memoryGb: 12,
      cpu: 8,
      setup: undefined,
      stackConfig: {},
      agentConfig: {},
      hostPorts: [],
      env: [],
      envFromWorker: [],
      volumes: [],
      devices: [],
      squid: undefined,
      gitTown: false,
      pushBranches: false,
      remote: undefined,
      caCertificates: [],
      networkIsolation: true,
      layerOrigins: { stackConfig: {}, agentConfig: {} },
    });
  });

  it('should let the first level that sets a scalar win', () => {
    const merged = mergeLayers(
      [
        layer('high', { memoryGb: 4 }),
        layer('middle', { memoryGb: 6, cpu: 2, setup: 'RUN middle' }),
        layer('low', { cpu: 1, setup: 'RUN low', gitTown: true, stack: 'go' }),
      ],
      builtIn,
    );
    expect(merged).toMatchObject({ memoryGb: 4, cpu: 2, setup: 'RUN middle', gitTown: true, stack: 'go', agent: 'claude' });
  });

  it('should treat false as set, so a higher false beats a lower true', () => {
    const merged = mergeLayers([layer('cli', { networkIsolation: false }), layer('file', { gitTown: false }), layer('low', { gitTown: true })], builtIn);
    expect(merged.networkIsolation).toBe(false);
    expect(merged.gitTown).toBe(false);
  });

  it('should pick the squid source of the highest level, whichever kind it is', () => {
    const merged = mergeLayers(
      [layer('high', { squid: { kind: 'inline', text: 'http_access deny all' } }), layer('low', { squid: { kind: 'file', path: '/a', origin: 'x' } })],
      builtIn,
    );
    expect(merged.squid).toEqual({ kind: 'inline', text: 'http_access deny all' });
  });

  it('should combine volumes by container path, the higher level winning a conflict', () => {
    const merged = mergeLayers(
      [
        layer('high', { volumes: [{ kind: 'named', name: 'tsk-cache', container: '/cache', readonly: false }] }),
        layer('low', {
          volumes: [
            { kind: 'bind', host: '/host/cache', container: '/cache', readonly: true },
            { kind: 'bind', host: '/host/logs', container: '/logs', readonly: true },
          ],
        }),
      ],
      builtIn,
    );
    expect(merged.volumes).toEqual([
      { kind: 'named', name: 'tsk-cache', container: '/cache', readonly: false },
      { kind: 'bind', host: '/host/logs', container: '/logs', readonly: true },
    ]);
  });

  it('should combine env by name, the higher level winning a conflict', () => {
    const merged = mergeLayers(
      [
        layer('high', { env: [{ name: 'MODE', value: 'project' }, { name: 'EXTRA', value: '1' }] }),
        layer('low', { env: [{ name: 'MODE', value: 'default' }, { name: 'BASE', value: 'b' }] }),
      ],
      builtIn,
    );
    expect(merged.env).toEqual([
      { name: 'MODE', value: 'project' },
      { name: 'BASE', value: 'b' },
      { name: 'EXTRA', value: '1' },
    ]);
  });

  it('should combine host ports and devices by value without duplicates', () => {
    const merged = mergeLayers(
      [
        layer('high', { hostPorts: [5432, 8080], devices: ['/dev/fuse'] }),
        layer('low', { hostPorts: [8080, 6379], devices: ['/dev/kvm', '/dev/fuse'] }),
      ],
      builtIn,
    );
    expect(merged.hostPorts).toEqual([8080, 6379, 5432]);
    expect(merged.devices).toEqual(['/dev/kvm', '/dev/fuse']);
  });

  it('should combine CA certificates by path', () => {
    const cert = (path: string, content = 'PEM') => ({ path, content });
    const merged = mergeLayers(
      [layer('high', { caCertificates: [cert('/b.pem'), cert('/a.pem', 'new')] }), layer('low', { caCertificates: [cert('/a.pem', 'old')] })],
      builtIn,
    );
    expect(merged.caCertificates).toEqual([cert('/a.pem', 'new'), cert('/b.pem')]);
  });

  it('should merge stack_config and agent_config per name, the higher level winning', () => {
    const merged = mergeLayers(
      [
        layer('high', { stackConfig: { rust: { setup: 'RUN high-rust' } }, agentConfig: { codex: { setup: 'RUN codex' } } }),
        layer('low', {
          stackConfig: { rust: { setup: 'RUN low-rust' }, go: { setup: 'RUN go' } },
          agentConfig: { claude: { setup: 'RUN claude' } },
        }),
      ],
      builtIn,
    );
    expect(merged.stackConfig).toEqual({ rust: { setup: 'RUN high-rust' }, go: { setup: 'RUN go' } });
    expect(merged.agentConfig).toEqual({ claude: { setup: 'RUN claude' }, codex: { setup: 'RUN codex' } });
  });

  it('should name where each winning image layer came from: the key of a table, or a snippet file', () => {
    const merged = mergeLayers(
      [
        layer('/u/tsk.toml [project.app]', { table: { file: '/u/tsk.toml', prefix: 'project.app.' }, agentConfig: { codex: { setup: 'RUN a' } } }),
        layer('/repo/.tsk/dockerfiles/project/app.dockerfile', { setup: 'RUN snippet' }),
        layer('/u/tsk.toml [defaults]', { table: { file: '/u/tsk.toml', prefix: 'defaults.' }, setup: 'RUN lower', stackConfig: { go: { setup: 'RUN go' } } }),
        layer('/u/dockerfiles/stack/rust.dockerfile', { stackConfig: { rust: { setup: 'RUN rust' } } }),
      ],
      builtIn,
    );
    expect(merged.setup).toBe('RUN snippet');
    expect(merged.layerOrigins).toEqual({
      setup: '/repo/.tsk/dockerfiles/project/app.dockerfile',
      stackConfig: { go: '/u/tsk.toml: defaults.stack_config.go.setup', rust: '/u/dockerfiles/stack/rust.dockerfile' },
      agentConfig: { codex: '/u/tsk.toml: project.app.agent_config.codex.setup' },
    });
  });
});
