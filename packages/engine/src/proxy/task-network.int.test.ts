import { randomUUID } from 'node:crypto';
import type Dockerode from 'dockerode';
import { afterAll, describe, expect, it } from 'vitest';
import { createDocker } from '../docker/docker-client.js';
import { DockerNetworkClient } from './network-client.js';
import { taskNetworkName } from './proxy-names.js';
import { ensureTaskNetwork } from './task-network.js';
import { ipv4Range, TASK_SUBNET_POOL } from './task-subnets.js';

// Task networks on the real engine: each on an explicit subnet and gateway of tsk's pool (what lets a
// Docker 20.10 engine start again after its shutdown interrupted a network's removal: task-subnets.ts),
// and picked again when another process took the same subnet a moment before.
const docker = createDocker();
const networks = new DockerNetworkClient(docker);
const run = randomUUID().slice(0, 6);
const created: string[] = [];

const options = (taskId: string) => ({ taskId, fingerprint: `fp${run}`, owner: `test/${process.pid}`, domain: `test-${run}` });
const taskId = () => `n${run}${randomUUID().slice(0, 4)}`;

afterAll(async () => {
  for (const name of created) await networks.remove(name).catch(() => undefined);
});

function ipamOf(info: Dockerode.NetworkInspectInfo): { Subnet?: string; Gateway?: string } {
  expect(info.IPAM?.Config).toHaveLength(1);
  return info.IPAM!.Config![0]!;
}

describe('ensureTaskNetwork (real Docker)', () => {
  it('should create the network on an explicit subnet and gateway of the pool, and return an existing one as is', async () => {
    const id = taskId();
    created.push(taskNetworkName(id));
    const first = await ensureTaskNetwork(networks, options(id));
    expect(first.created).toBe(true);
    const { Subnet, Gateway } = ipamOf(await docker.getNetwork(taskNetworkName(id)).inspect());
    const pool = ipv4Range(`${TASK_SUBNET_POOL.base}/${TASK_SUBNET_POOL.prefix}`)!;
    const range = ipv4Range(Subnet ?? '')!;
    expect(range.first >= pool.first && range.last <= pool.last).toBe(true);
    expect(Subnet).toMatch(/\/24$/);
    expect(Gateway).toBe(Subnet!.replace(/\.0\/24$/, '.1'));
    expect(first.info.Internal).toBe(true);

    const again = await ensureTaskNetwork(networks, options(id));
    expect(again.created).toBe(false);
    expect(again.info.Id).toBe(first.info.Id);
  });

  it('should pick another subnet when the engine refuses one another process took meanwhile', async () => {
    // The second creation sees the engine as it was before the first: both pick the same subnet (the
    // lowest free one), the engine refuses the second, which picks again.
    const stale = await networks.subnetsInUse();
    const staleView = { inspect: networks.inspect.bind(networks), ensure: networks.ensure.bind(networks), subnetsInUse: async () => [...stale] };
    const [a, b] = [taskId(), taskId()];
    created.push(taskNetworkName(a), taskNetworkName(b));
    await ensureTaskNetwork(staleView, options(a), () => 0);
    const second = await ensureTaskNetwork(staleView, options(b), () => 0);
    expect(second.created).toBe(true);
    const subnetA = ipamOf(await docker.getNetwork(taskNetworkName(a)).inspect()).Subnet;
    const subnetB = ipamOf(await docker.getNetwork(taskNetworkName(b)).inspect()).Subnet;
    expect(subnetB).not.toBe(subnetA);
  });
});
