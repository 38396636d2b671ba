import { ensureDockerLockDir } from '../common/lock-dir.js';
import { loadConfig, type ResolvedConfig } from '../config/index.js';
import type { Dockerode, ImageBuilder } from '../docker/index.js';
import type { LogSink } from '../logging/index.js';
import { embeddedRedisRecord } from './embedded-redis-record.js';
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
  // Loaded here: a command whose Redis answers (configured, or the embedded one as recorded) loads no Docker client.
  const { assertDockerAvailable, createDocker, ImageBuilder } = await import('../docker/index.js');
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
 * tests and side-by-side installations). Docker is only needed for the embedded Redis, and only when
 * the URL recorded where it was last found does not answer (see {@link embeddedRedisRecord}).
 */
export async function openConfiguredQueue(options: OpenConfiguredQueueOptions): Promise<ConfiguredQueue> {
  const env = options.env ?? process.env;
  const config = await loadConfig({ env });
  const containerName = env.TSK_REDIS_CONTAINER || undefined;
  const opened = await openTaskQueue({
    redisUrl: config.machine.redisUrl,
    purpose: options.purpose,
    recorded: embeddedRedisRecord(config.machine.dataDir, containerName ?? 'tsk-redis', env),
    embedded: async () => ({
      ...(options.docker ?? (await dockerServices(env))),
      baseImage: config.task.baseImage,
      log: options.log,
      containerName,
    }),
  });
  return Object.assign(opened, { config });
}
