import { createHash } from 'node:crypto';
import type { ImagePlan } from '../docker/index.js';

/** Port Redis listens on inside its container. */
export const REDIS_CONTAINER_PORT = 6379;

/**
 * The embedded Redis image: Debian's redis-server on tsk's base image, so it builds where no image
 * registry is reachable (only the base image and a Debian mirror are needed). Runs as the `redis` user
 * with its data in `/data` (a named volume). Pure: the tag is a hash of the Dockerfile.
 */
export function redisImagePlan(baseImage: string): ImagePlan {
  const dockerfile = [
    `FROM ${baseImage}`,
    'ARG DEBIAN_FRONTEND=noninteractive',
    'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    'RUN apt-get update \\',
    ' && apt-get install -y --no-install-recommends redis-server \\',
    ' && apt-get clean && rm -rf /var/lib/apt/lists/* \\',
    ' && mkdir -p /data && chown redis:redis /data',
    'USER redis',
    'WORKDIR /data',
    `EXPOSE ${REDIS_CONTAINER_PORT}`,
    'ENTRYPOINT ["redis-server"]',
    '',
  ].join('\n');
  const hash = createHash('sha256').update(dockerfile).digest('hex').slice(0, 12);
  return {
    tag: `tsk/redis:${hash}`,
    baseImage,
    dockerfile,
    layers: [{ kind: 'base', name: 'redis', source: 'built-in' }],
    contextFiles: [],
    buildArgs: {},
    labels: { 'tsk.role': 'redis' },
  };
}

/**
 * redis-server arguments: persistence on (append-only file), never evict (BullMQ needs every key), and
 * a password because the port is reachable by every local user.
 */
export function redisServerArgs(password: string): string[] {
  return [
    '--port', String(REDIS_CONTAINER_PORT),
    '--bind', '0.0.0.0',
    '--dir', '/data',
    '--appendonly', 'yes',
    '--appendfsync', 'everysec',
    '--maxmemory-policy', 'noeviction',
    '--requirepass', password,
  ];
}

/** The password in a container's redis-server arguments, if any. */
export function passwordFromArgs(args: readonly string[]): string | undefined {
  const index = args.indexOf('--requirepass');
  return index >= 0 ? args[index + 1] : undefined;
}
