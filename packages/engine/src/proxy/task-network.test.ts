import type Dockerode from 'dockerode';
import { describe, expect, it } from 'vitest';
import { ProxyError } from '../errors/index.js';
import { assertEngineIsolates, assertTaskNetworkIsolated, taskNetworkCreateOptions } from './task-network.js';

describe('taskNetworkCreateOptions', () => {
  it('should create an internal bridge network without the host address, on an explicit subnet and gateway, labelled with task, proxy, owner and lock domain', () => {
    const subnet = { subnet: '198.19.7.0/24', gateway: '198.19.7.1' };
    expect(taskNetworkCreateOptions({ taskId: 'AbC_1234', fingerprint: 'abcdef012345', owner: 'host/42', domain: 'd1', subnet })).toEqual({
      Name: 'tsk-agent-AbC_1234',
      Driver: 'bridge',
      Internal: true,
      EnableIPv6: false,
      Options: { 'com.docker.network.bridge.inhibit_ipv4': 'true' },
      // With the gateway in the stored config, Docker 20.10 survives a removal its shutdown interrupted (task-subnets.ts).
      IPAM: { Driver: 'default', Config: [{ Subnet: '198.19.7.0/24', Gateway: '198.19.7.1' }] },
      Labels: { 'tsk.managed': 'true', 'tsk.role': 'task', 'tsk.task': 'AbC_1234', 'tsk.proxy': 'abcdef012345', 'tsk.owner': 'host/42', 'tsk.locks': 'd1' },
    });
  });
});

describe('assertEngineIsolates', () => {
  it('should accept Docker 20.10 (API 1.41) and later', () => {
    expect(() => assertEngineIsolates({ ApiVersion: '1.41', Components: [{ Name: 'Engine' }] })).not.toThrow();
    expect(() => assertEngineIsolates({ ApiVersion: '1.51' })).not.toThrow();
  });

  it('should fail closed on older engines, unknown versions and Podman', () => {
    expect(() => assertEngineIsolates({ ApiVersion: '1.40' })).toThrow(ProxyError);
    expect(() => assertEngineIsolates({})).toThrow(/API unknown/);
    expect(() => assertEngineIsolates({ ApiVersion: '1.41', Components: [{ Name: 'Podman Engine' }] })).toThrow(/Podman/);
  });
});

describe('assertTaskNetworkIsolated', () => {
  const good = {
    Name: 'tsk-agent-x',
    Driver: 'bridge',
    Internal: true,
    Options: { 'com.docker.network.bridge.inhibit_ipv4': 'true' },
  } as unknown as Dockerode.NetworkInspectInfo;

  it('should pass an internal bridge network with the host address inhibited', () => {
    expect(() => assertTaskNetworkIsolated(good)).not.toThrow();
  });

  it('should fail when the engine dropped internal, the inhibit option, or used another driver', () => {
    expect(() => assertTaskNetworkIsolated({ ...good, Internal: false })).toThrow(/not internal/);
    expect(() => assertTaskNetworkIsolated({ ...good, Options: {} })).toThrow(/inhibit_ipv4/);
    expect(() => assertTaskNetworkIsolated({ ...good, Driver: 'macvlan' })).toThrow(/driver macvlan/);
  });
});
