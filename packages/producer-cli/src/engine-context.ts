import { hostname } from 'node:os';
import {
  assertDockerAvailable,
  createDocker,
  ensureDockerLockDir,
  ImageBuilder,
  ProxyManager,
  TaskRunner,
  tskDirs,
  type AgentApiEndpoints,
  type Dockerode,
  type LogSink,
} from '@tsk/engine';
import { terminalSink } from './terminal-sink.js';

/** The CLI's composition root: the engine objects a command needs, built on demand. */
export interface EngineContext {
  docker: Dockerode;
  images: ImageBuilder;
  dataDir: string;
  /** This user's lock folder for image builds and proxies (see `ensureDockerLockDir`). */
  lockDir: string;
}

export async function createEngineContext(env: NodeJS.ProcessEnv = process.env): Promise<EngineContext> {
  const dirs = tskDirs(env);
  const docker = createDocker(env);
  await assertDockerAvailable(docker);
  const lockDir = await ensureDockerLockDir(env);
  return { docker, images: new ImageBuilder(docker, { lockDir }), dataDir: dirs.dataDir, lockDir };
}

/**
 * The network isolation of sandboxes started by this process: per-task internal networks behind shared
 * Squid proxies (or Docker's bridge for tasks with isolation off). Proxy progress goes to stderr.
 */
export function createProxyManager(context: EngineContext, log: LogSink = terminalSink(process.stderr), idleTimeoutMs = 0): ProxyManager {
  // A CLI process is short-lived: a proxy it leaves warm gets an idle reaper that removes it at its deadline.
  return new ProxyManager({ docker: context.docker, images: context.images, lockDir: context.lockDir, log, idleTimeoutMs, idleReaper: true });
}

/**
 * A runner for tasks executed by this CLI process (`tsk run`, `tsk shell`). `proxyIdleTimeoutMs`
 * (`[proxy] idle_timeout`) keeps the task's proxy warm for the next one after this process exits.
 */
export function createInlineRunner(context: EngineContext, agentApiEndpoints: AgentApiEndpoints, options: { proxyIdleTimeoutMs?: number } = {}): TaskRunner {
  return new TaskRunner({
    agentApiEndpoints,
    docker: context.docker,
    images: context.images,
    network: createProxyManager(context, undefined, options.proxyIdleTimeoutMs),
    dataDir: context.dataDir,
    workerName: `cli-${hostname()}-${process.pid}`,
  });
}
