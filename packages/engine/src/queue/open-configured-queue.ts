import { ensureDockerLockDir } from '../common/lock-dir.js';
import { loadConfig, type ResolvedConfig } from '../config/index.js';
import { assertDockerAvailable, createDocker, ImageBuilder, type Dockerode } from '../docker/index.js';
import type { LogSink } from '../logging/index.js';
import { openTaskQueue, type OpenTaskQueue } from './open-task-queue.js';
import type { RedisPurpose } from './redis-connection.js';

/** Docker and the image builder, made only when something needs them. */
export interface DockerServices {
  docker: Dockerode;
  images: ImageBuilder;
  /** This user's lock folder for image builds and proxies (see {@link ensureDockerLockDir}). */
  lockDir: string;
}

/** Connect to Docker (one clear error when it is not there) and set up the image builder. */
export async function dockerServices(env: NodeJS.ProcessEnv): Promise<DockerServices> {
  const docker = createDocker(env);
  await assertDockerAvailable(docker);
  const lockDir = await ensureDockerLockDir(env);
  return { docker, images: new ImageBuilder(docker, { lockDir }), lockDir };
}

export interface OpenConfiguredQueueOptions {
  purpose: RedisPurpose;
  /** Progress lines of the embedded Redis's first start (image build, container creation). */
  log: LogSink;
  /** @defaultValue process.env */
  env?: NodeJS.ProcessEnv;
  /** Reuse these instead of connecting to Docker again (a worker has them already). */
  docker?: DockerServices;
}

/** An open queue with the configuration it was opened with. */
export interface ConfiguredQueue extends OpenTaskQueue {
  config: ResolvedConfig;
}

/**
 * Open the queue this machine is configured for: `[redis] url` / TSK_REDIS_URL, else the embedded
 * `tsk-redis` container (started on first use; `TSK_REDIS_CONTAINER` names another container, for
 * tests and side-by-side installations). Docker is only needed for the embedded Redis.
 */
export async function openConfiguredQueue(options: OpenConfiguredQueueOptions): Promise<ConfiguredQueue> {
  const env = options.env ?? process.env;
  const config = await loadConfig({ env });
  const opened = await openTaskQueue({
    redisUrl: config.machine.redisUrl,
    purpose: options.purpose,
    embedded: async () => ({
      ...(options.docker ?? (await dockerServices(env))),
      baseImage: config.task.baseImage,
      log: options.log,
      containerName: env.TSK_REDIS_CONTAINER || undefined,
    }),
  });
  return Object.assign(opened, { config });
}
