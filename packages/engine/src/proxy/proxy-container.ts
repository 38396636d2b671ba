import type Dockerode from 'dockerode';
import { setTimeout as sleep } from 'node:timers/promises';
import { dockerStatus } from '../docker/docker-client.js';
import { ProxyError } from '../errors/index.js';
import { log } from '../logging/index.js';

export interface EnsureProxyContainerOptions {
  /** Give up waiting for the health check after this long. */
  healthTimeoutMs: number;
  /** How often to look at the health status while waiting. @defaultValue 200 */
  pollMs?: number;
  signal?: AbortSignal;
}

/** A healthy, running proxy container. `created` tells whether this call started it. */
export interface RunningProxy {
  id: string;
  info: Dockerode.ContainerInspectInfo;
  created: boolean;
}

/**
 * Make sure the proxy container of `spec` runs and passes its health check: reuse it when it does, wait
 * for it when it is starting, replace it when it died or is unhealthy (a proxy nobody can use helps no
 * task), create it when there is none.
 *
 * Callers hold the proxy's lock, so nobody else creates or removes this container meanwhile.
 */
export async function ensureProxyContainer(
  docker: Dockerode,
  spec: Dockerode.ContainerCreateOptions,
  options: EnsureProxyContainerOptions,
): Promise<RunningProxy> {
  const name = spec.name ?? 'proxy';
  const existing = await inspectContainer(docker, name);
  if (existing?.State.Running && existing.State.Health?.Status !== 'unhealthy') {
    const info = await waitHealthy(docker, name, options);
    return { id: info.Id, info, created: false };
  }
  if (existing) {
    log.proxy('[%s] replacing proxy in state %s/%s', name, existing.State.Status, existing.State.Health?.Status ?? '-');
    await removeContainer(docker, name);
  }
  let container: Dockerode.Container;
  try {
    container = await docker.createContainer(spec);
    log.proxy('[%s] created from %s', name, spec.Image);
  } catch (error) {
    throw new ProxyError(`Could not create proxy container ${name}: ${messageOf(error)}`, { cause: error });
  }
  try {
    await container.start();
    const info = await waitHealthy(docker, name, options);
    return { id: info.Id, info, created: true };
  } catch (error) {
    // A proxy that never became healthy would be reused as broken by the next task.
    await removeContainer(docker, name).catch(() => undefined);
    if (error instanceof ProxyError) throw error;
    throw new ProxyError(`Could not start proxy container ${name}: ${messageOf(error)}`, { cause: error });
  }
}

/** Inspect a container by name; `undefined` when there is none. */
export async function inspectContainer(docker: Dockerode, name: string): Promise<Dockerode.ContainerInspectInfo | undefined> {
  try {
    return await docker.getContainer(name).inspect();
  } catch (error) {
    if (dockerStatus(error) === 404) return undefined;
    throw new ProxyError(`Could not inspect container ${name}: ${messageOf(error)}`, { cause: error });
  }
}

/** Remove a container, stopping it first; already gone (or going) is fine. */
export async function removeContainer(docker: Dockerode, name: string): Promise<void> {
  try {
    await docker.getContainer(name).remove({ force: true, v: true });
    log.proxy('[%s] removed', name);
  } catch (error) {
    const status = dockerStatus(error);
    if (status === 404 || status === 409) return;
    throw new ProxyError(`Could not remove container ${name}: ${messageOf(error)}`, { cause: error });
  }
}

/** The last lines the container printed (stdout and stderr interleaved), for error messages. */
export async function containerLogTail(docker: Dockerode, name: string, lines = 20): Promise<string> {
  try {
    const buffer = (await docker.getContainer(name).logs({ stdout: true, stderr: true, tail: lines, follow: false })) as unknown as Buffer;
    return demuxLogs(buffer).trim();
  } catch {
    return '';
  }
}

async function waitHealthy(docker: Dockerode, name: string, options: EnsureProxyContainerOptions): Promise<Dockerode.ContainerInspectInfo> {
  const deadline = Date.now() + options.healthTimeoutMs;
  for (;;) {
    options.signal?.throwIfAborted();
    const info = await inspectContainer(docker, name);
    if (!info) throw new ProxyError(`Proxy container ${name} disappeared while starting`);
    const health = info.State.Health?.Status;
    if (info.State.Running && (health === 'healthy' || health === undefined)) {
      // `undefined`: an image without a health check (a custom one): running is all we can know.
      log.proxy('[%s] healthy', name);
      return info;
    }
    if (!info.State.Running || health === 'unhealthy') {
      throw await startFailure(docker, name, info.State.Running ? 'is unhealthy' : `exited with code ${info.State.ExitCode}`);
    }
    if (Date.now() > deadline) {
      throw await startFailure(docker, name, `did not pass its health check within ${options.healthTimeoutMs / 1000}s`);
    }
    await sleep(options.pollMs ?? 200, undefined, { signal: options.signal });
  }
}

async function startFailure(docker: Dockerode, name: string, what: string): Promise<ProxyError> {
  const tail = await containerLogTail(docker, name);
  const lastLine = tail.split('\n').filter((line) => line.trim()).pop();
  return new ProxyError(`Proxy ${name} ${what}${lastLine ? `: ${lastLine.trim()}` : ''}`, {
    hint: 'a custom squid_conf must keep `http_port 3128`; `docker logs` of the proxy shows the rest',
  });
}

/** Docker's log stream for a container without a TTY: frames of an 8-byte header and a payload. */
export function demuxLogs(buffer: Buffer): string {
  let text = '';
  let offset = 0;
  while (offset + 8 <= buffer.length) {
    const size = buffer.readUInt32BE(offset + 4);
    text += buffer.subarray(offset + 8, offset + 8 + size).toString('utf8');
    offset += 8 + size;
  }
  return text;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
