import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createDocker } from '../docker/docker-client.js';
import { DockerNetworkClient } from './network-client.js';
import { stopIdleProxies } from './idle-proxies.js';
import { taskNetworkName } from './proxy-names.js';
import { ensureTaskNetwork } from './task-network.js';
import { currentOwner } from './task-owner.js';

// A task network whose removal failed when its task ended (the engine was restarting) outlives its task
// while the process that made it lives on (a worker): the process's own sweep knows it holds no lease
// for that task any more and removes it; a network it still holds, and another live process's, stay.
// Real Docker.
const docker = createDocker();
const engine = { docker, networks: new DockerNetworkClient(docker) };
const run = randomUUID().replace(/-/g, '').slice(0, 8);
const lockDir = mkdtempSync(join(tmpdir(), 'tsk-idle-proxies-'));
const domain = `test${run}`;
const fingerprint = `f${run.slice(0, 11)}`;
const made: string[] = [];

afterAll(async () => {
  for (const name of made) await engine.networks.remove(name).catch(() => undefined);
  rmSync(lockDir, { recursive: true, force: true });
});

async function taskNetwork(owner: string): Promise<string> {
  const taskId = `h${randomUUID().replace(/-/g, '').slice(0, 7)}`;
  made.push(taskNetworkName(taskId));
  await ensureTaskNetwork(engine.networks, { taskId, fingerprint, owner, domain });
  return taskId;
}

const exists = async (taskId: string) => (await engine.networks.inspect(taskNetworkName(taskId))) !== undefined;

describe('stopIdleProxies: task networks of a live process', () => {
  it('removes its own networks of tasks it holds no lease for, and keeps held ones and other live owners’', async () => {
    const owner = currentOwner();
    const [released, held] = [await taskNetwork(owner), await taskNetwork(owner)];
    // Another live process on this host: pid 1.
    const others = await taskNetwork(owner.replace(/\/\d+$/, '/1'));

    // Without knowing what this process holds, a live owner's networks all stay.
    await stopIdleProxies(engine, { lockDir, domain });
    expect([await exists(released), await exists(held), await exists(others)]).toEqual([true, true, true]);

    const result = await stopIdleProxies(engine, { lockDir, domain, heldHere: { owner, holds: (taskId) => taskId === held } });
    expect(result.removedNetworks).toEqual([taskNetworkName(released)]);
    expect([await exists(released), await exists(held), await exists(others)]).toEqual([false, true, true]);
  });
});
