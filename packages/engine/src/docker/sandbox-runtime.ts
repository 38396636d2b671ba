import type Dockerode from 'dockerode';
import { engineCpuCount } from './docker-client.js';
import { SandboxContainer, type SandboxExit, type SandboxRunOptions, type SandboxTerminalOptions } from './sandbox-container.js';
import type { TerminalSession } from './terminal-session.js';

/**
 * One task's sandbox as the runner uses it: run once (output streamed line by line, the exit code waited
 * for; aborting kills it and the run resolves `cancelled`), or run on a user's terminal; removed exactly
 * once however it ends (`remove()` is idempotent and runs on `await using` disposal).
 */
export interface Sandbox extends AsyncDisposable {
  readonly name: string;
  run(options: SandboxRunOptions): Promise<SandboxExit>;
  runInteractive(terminal: TerminalSession, options?: SandboxTerminalOptions): Promise<SandboxExit>;
  remove(): Promise<void>;
}

/**
 * What runs sandboxes: the Docker engine in production ({@link dockerSandboxRuntime}); a stand-in with the
 * same contract in the runner's fast tests (`test-utils/fake-sandbox.ts`).
 */
export interface SandboxRuntime {
  /** Create (not start) a sandbox from its spec (`buildSandboxSpec`). */
  create(spec: Dockerode.ContainerCreateOptions): Promise<Sandbox>;
  /** The CPUs the engine has: a task's CPU limit is clamped to them. */
  cpuCount(): Promise<number>;
}

/** Sandboxes as containers of this Docker engine. */
export function dockerSandboxRuntime(docker: Dockerode): SandboxRuntime {
  return {
    create: (spec) => SandboxContainer.create(docker, spec),
    cpuCount: () => engineCpuCount(docker),
  };
}
