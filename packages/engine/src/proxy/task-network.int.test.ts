import { randomUUID } from 'node:crypto';
import type Dockerode from 'dockerode';
import { afterAll, describe, expect, it } from 'vitest';
import { createDocker } from '../docker/docker-client.js';
import { DockerNetworkClient } from './network-client.js';
import { taskNetworkName } from './proxy-names.js';
import { ensureNetworkOnPool, ensureTaskNetwork, hostRoutedSubnets } from './task-network.js';
import { EGRESS_SUBNET_POOL, ipv4Range, TASK_SUBNET_POOL } from './task-subnets.js';

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

describe('ensureNetworkOnPool: an egress network (real Docker)', () => {
  it('should put it on a /24 of the egress pool with its gateway, clear of what the host routes', async () => {
    const name = `tsk-test-egress-${run}`;
    created.push(name);
    const build = (subnet: { subnet: string; gateway: string }) => ({ Name: name, Driver: 'bridge', Labels: { 'tsk.test': run }, IPAM: { Driver: 'default', Config: [{ Subnet: subnet.subnet, Gateway: subnet.gateway }] } });
    // As if the host routed the lower half of the pool (another engine's bridges, a VPN).
    const routed = [...hostRoutedSubnets(), '198.18.0.0/17'];
    const { created: made } = await ensureNetworkOnPool(networks, name, EGRESS_SUBNET_POOL, build, { alsoTaken: routed });
    expect(made).toBe(true);
    const { Subnet, Gateway } = ipamOf(await docker.getNetwork(name).inspect());
    const range = ipv4Range(Subnet ?? '')!;
    expect(range.first >= ipv4Range('198.18.128.0/17')!.first && range.last <= ipv4Range('198.18.255.0/24')!.last).toBe(true);
    expect(Gateway).toBe(Subnet!.replace(/\.0\/24$/, '.1'));
    expect((await ensureNetworkOnPool(networks, name, EGRESS_SUBNET_POOL, build)).created).toBe(false);
  });
});
