import Dockerode from 'dockerode';
import { DockerUnavailableError } from '../errors/index.js';

export type { Dockerode };
export { dockerStatus } from './docker-status.js';

/**
 * A dockerode client for the engine named by DOCKER_HOST (unix://, tcp://, ssh://) or the default
 * socket. Creating it never talks to the engine, so commands that do not need Docker work without one.
 */
export function createDocker(env: NodeJS.ProcessEnv = process.env): Dockerode {
  const host = env.DOCKER_HOST;
  if (!host) return new Dockerode({ socketPath: '/var/run/docker.sock' });
  if (host.startsWith('unix://')) return new Dockerode({ socketPath: host.slice('unix://'.length) });
  // dockerode reads DOCKER_HOST (tcp/ssh), DOCKER_TLS_VERIFY and DOCKER_CERT_PATH itself.
  return new Dockerode();
}

/** Fail with one clear line when no engine answers. */
export async function assertDockerAvailable(docker: Dockerode): Promise<void> {
  try {
    await docker.ping();
  } catch (error) {
    throw new DockerUnavailableError(`No Docker engine answers (${(error as Error).message})`, {
      hint: 'start Docker, or run `npm run setup` which starts dockerd on Debian/Ubuntu',
      cause: error,
    });
  }
}

/** How many CPUs the engine has (what a task's CPU limit is clamped to). */
export async function engineCpuCount(docker: Dockerode): Promise<number> {
  return ((await docker.info()) as { NCPU?: number }).NCPU ?? 1;
}
