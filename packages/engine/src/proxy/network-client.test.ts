import type Dockerode from 'dockerode';
import { describe, expect, it } from 'vitest';
import { ProxyError } from '../errors/index.js';
import { DockerNetworkClient } from './network-client.js';

/** A dockerode error as the engine sends it. */
function engineError(statusCode: number, message: string): Error {
  return Object.assign(new Error(`(HTTP code ${statusCode}) ${message}`), { statusCode });
}

/** A dockerode whose network operations all fail with `error`. */
function failingDocker(error: Error): Dockerode {
  const network = {
    inspect: () => Promise.reject(error),
    remove: () => Promise.reject(error),
    connect: () => Promise.reject(error),
    disconnect: () => Promise.reject(error),
  };
  return { getNetwork: () => network } as unknown as Dockerode;
}

describe('DockerNetworkClient', () => {
  it('should treat a network that is gone as removed and as nothing to inspect', async () => {
    const client = new DockerNetworkClient(failingDocker(engineError(404, 'network x not found')));
    await expect(client.remove('x')).resolves.toBeUndefined();
    await expect(client.inspect('x')).resolves.toBeUndefined();
  });

  it('should treat "not connected" as disconnected, whatever status the engine gives it', async () => {
    for (const status of [403, 500]) {
      const client = new DockerNetworkClient(failingDocker(engineError(status, 'container abc is not connected to network x')));
      await expect(client.disconnect('x', 'abc')).resolves.toBeUndefined();
    }
  });

  it('should treat an endpoint that exists as connected', async () => {
    const client = new DockerNetworkClient(failingDocker(engineError(403, 'endpoint with name p already exists in network x')));
    await expect(client.connect('x', 'p', ['tsk-proxy'])).resolves.toBeUndefined();
  });

  it('should turn anything else into a ProxyError naming the operation', async () => {
    const client = new DockerNetworkClient(failingDocker(engineError(403, 'network x has active endpoints')));
    await expect(client.remove('x')).rejects.toThrow(ProxyError);
    await expect(client.remove('x')).rejects.toThrow(/Could not remove network x: .*active endpoints/);
  });
});
