import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { createDocker } from '../docker/docker-client.js';
import { DockerNetworkClient } from './network-client.js';
import { ipv4Range, TASK_SUBNET_POOL } from './task-subnets.js';

// A network on the subnet the engine picks, pinned in its IPAM config with its gateway (what a Docker
// 20.10 engine needs to start again after its shutdown interrupted the network's removal). Real Docker.
const docker = createDocker();
const networks = new DockerNetworkClient(docker);
const name = `tsk-test-pinned-${randomUUID().slice(0, 8)}`;

afterAll(async () => {
  await networks.remove(name).catch(() => undefined);
  await networks.remove(`${name}-pick`).catch(() => undefined);
});

describe('DockerNetworkClient.ensurePinned (real Docker)', () => {
  it('should create the network on the engine’s own pick of subnet with the gateway in its config, and leave no helper network', async () => {
    const { info, created } = await networks.ensurePinned({ Name: name, Driver: 'bridge', Labels: { 'tsk.test': 'pinned' } });
    expect(created).toBe(true);
    const inspected = await docker.getNetwork(name).inspect();
    const config = inspected.IPAM?.Config ?? [];
    expect(config).toHaveLength(1);
    const { Subnet, Gateway } = config[0]!;
    expect(Subnet).toMatch(/^\d+\.\d+\.\d+\.\d+\/\d+$/);
    expect(Gateway).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    // The engine's pools, not tsk's task subnets.
    const range = ipv4Range(Subnet!)!;
    const pool = ipv4Range(`${TASK_SUBNET_POOL.base}/${TASK_SUBNET_POOL.prefix}`)!;
    expect(range.last < pool.first || range.first > pool.last).toBe(true);
    expect(inspected.Labels).toEqual({ 'tsk.test': 'pinned' });
    expect(info.Id).toBe(inspected.Id);
    expect(await networks.inspect(`${name}-pick`)).toBeUndefined();

    const again = await networks.ensurePinned({ Name: name, Driver: 'bridge' });
    expect(again).toMatchObject({ created: false });
    expect(again.info.Id).toBe(inspected.Id);
  });
});
