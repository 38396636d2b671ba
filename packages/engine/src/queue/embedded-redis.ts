import { randomBytes } from 'node:crypto';
import type Dockerode from 'dockerode';
// Single docker modules, not docker/index.js: a command that finds Redis running loads no Docker client.
import { LABEL_MANAGED } from '../docker/container-spec.js';
import { dockerStatus } from '../docker/docker-status.js';
import type { ImageBuilder } from '../docker/image-builder.js';
import { ContainerError, QueueError } from '../errors/index.js';
import { log as debug, type LogSink } from '../logging/index.js';
import { connectRedis } from './redis-connection.js';
import { passwordFromArgs, REDIS_CONTAINER_PORT, redisImagePlan, redisServerArgs } from './redis-image.js';

export interface EmbeddedRedisOptions {
  docker: Dockerode;
  images: ImageBuilder;
  /** Image the Redis image is built FROM (config `base_image`). */
  baseImage: string;
  log: LogSink;
  /** @defaultValue 'tsk-redis' */
  containerName?: string;
  /** Named volume holding the append-only file. @defaultValue '<containerName>-data' */
  volumeName?: string;
  /** Host port on 127.0.0.1; 0 lets Docker pick a free one (found again by inspecting). @defaultValue 0 */
  hostPort?: number;
  /** How long to wait for a started Redis to answer. @defaultValue 30_000 */
  readyTimeoutMs?: number;
}

const PORT_KEY = `${REDIS_CONTAINER_PORT}/tcp`;

/**
 * The URL of tsk's own Redis (SPEC §7), starting it first when needed: a `tsk-redis` container built
 * from the base image, published on 127.0.0.1 only, with a named volume, an append-only file, the
 * `noeviction` policy and a generated password. Concurrent first uses are safe: whoever loses the race
 * to create the container uses the winner's.
 */
export async function ensureEmbeddedRedis(options: EmbeddedRedisOptions): Promise<string> {
  const name = options.containerName ?? 'tsk-redis';
  let info = await inspect(options.docker, name);
  if (info === undefined) {
    await create(options, name);
    info = await inspect(options.docker, name);
  }
  if (info === undefined) throw new ContainerError(`The ${name} container disappeared while starting it`);
  if (!info.State.Running) {
    options.log.write('tsk', `Starting ${name}`);
    await options.docker
      .getContainer(name)
      .start()
      .catch((error: unknown) => {
        if (dockerStatus(error) !== 304) throw new ContainerError(`Could not start ${name}: ${(error as Error).message}`, { cause: error });
      });
    info = (await inspect(options.docker, name)) ?? info;
  }
  const url = urlOf(info, name);
  await waitUntilReady(url, options.readyTimeoutMs ?? 30_000, name);
  return url;
}

async function inspect(docker: Dockerode, name: string): Promise<Dockerode.ContainerInspectInfo | undefined> {
  try {
    return await docker.getContainer(name).inspect();
  } catch (error) {
    if (dockerStatus(error) === 404) return undefined;
    throw new ContainerError(`Could not inspect ${name}: ${(error as Error).message}`, { cause: error });
  }
}

async function create(options: EmbeddedRedisOptions, name: string): Promise<void> {
  const plan = redisImagePlan(options.baseImage);
  if (!(await options.images.imageExists(plan.tag))) {
    options.log.write('tsk', `Building the embedded Redis image ${plan.tag} (once)`);
    const { ensureBaseImage } = await import('../docker/base-image.js');
    await ensureBaseImage({ docker: options.docker, tag: options.baseImage, log: options.log });
    await options.images.ensureImage(plan, { log: options.log });
  }
  const volume = options.volumeName ?? `${name}-data`;
  options.log.write('tsk', `Creating ${name} (Redis on 127.0.0.1, volume ${volume})`);
  try {
    await options.docker.createContainer({
      name,
      Image: plan.tag,
      Cmd: redisServerArgs(randomBytes(24).toString('hex')),
      Labels: { [LABEL_MANAGED]: 'true', 'tsk.role': 'redis' },
      ExposedPorts: { [PORT_KEY]: {} },
      HostConfig: {
        // Loopback only: the queue is this machine's unless the user configures a shared Redis.
        PortBindings: { [PORT_KEY]: [{ HostIp: '127.0.0.1', HostPort: options.hostPort ? String(options.hostPort) : '' }] },
        Binds: [`${volume}:/data`],
        RestartPolicy: { Name: 'unless-stopped' },
      },
    });
  } catch (error) {
    // 409: another tsk process created it first; use that one.
    if (dockerStatus(error) === 409) return;
    throw new ContainerError(`Could not create ${name}: ${(error as Error).message}`, { cause: error });
  }
}

function urlOf(info: Dockerode.ContainerInspectInfo, name: string): string {
  const binding = info.NetworkSettings.Ports?.[PORT_KEY]?.find((entry) => entry.HostIp === '127.0.0.1') ?? info.NetworkSettings.Ports?.[PORT_KEY]?.[0];
  const password = passwordFromArgs(info.Config.Cmd ?? []);
  if (binding === undefined || !binding.HostPort) {
    throw new QueueError(`The ${name} container publishes no port for Redis`, { hint: `remove it (docker rm -f ${name}) and retry; its volume keeps the data` });
  }
  const auth = password ? `:${encodeURIComponent(password)}@` : '';
  return `redis://${auth}127.0.0.1:${binding.HostPort}`;
}

async function waitUntilReady(url: string, timeoutMs: number, name: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      // PING fails with LOADING while Redis replays its append-only file; connectRedis then throws.
      const redis = await connectRedis({ url, purpose: 'cli', connectTimeoutMs: 2000 });
      redis.disconnect();
      return;
    } catch (error) {
      lastError = error;
      debug.queue('%s not ready: %s', name, (error as Error).message);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new QueueError(`The embedded Redis (${name}) did not answer within ${timeoutMs / 1000}s`, {
    hint: `see \`docker logs ${name}\``,
    cause: lastError,
  });
}
