import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import type Dockerode from 'dockerode';
import { INSTRUCTIONS_PATH } from '../agents/agent.js';
import { lineWriter } from '../common/line-writer.js';
import type { SandboxExit, SandboxRunOptions } from '../docker/sandbox-container.js';
import type { Sandbox, SandboxRuntime } from '../docker/sandbox-runtime.js';
import type { TaskImages } from '../runner/steps/ensure-task-image.js';

/** What a stand-in agent sees of its sandbox. */
export interface FakeAgentContext {
  /** The spec the runner created the sandbox from (`buildSandboxSpec`). */
  spec: Dockerode.ContainerCreateOptions;
  /** The host folder mounted as the sandbox's working directory: the task's workspace. */
  workspaceDir: string;
  /** The rendered instructions (the file mounted at {@link INSTRUCTIONS_PATH}). */
  instructions: string;
  /** The sandbox's environment. */
  env: Record<string, string>;
  stdout(line: string): void;
  stderr(line: string): void;
  /** Aborted when the sandbox is killed (a cancel, a budget): the agent should stop. */
  signal: AbortSignal;
}

/** A stand-in agent: does its work and resolves with its exit code. */
export type FakeAgent = (context: FakeAgentContext) => Promise<number>;

/**
 * A {@link SandboxRuntime} without Docker, keeping the contract the runner relies on: output line by
 * line, the agent's exit code, an abort kills it (the run resolves `cancelled` with 137, as a killed
 * container's wait does), removal idempotent. `live` names the sandboxes not removed.
 */
export class FakeSandboxRuntime implements SandboxRuntime {
  readonly created: FakeSandbox[] = [];

  constructor(
    private readonly agent: FakeAgent,
    private readonly cpus = 2,
  ) {}

  async create(spec: Dockerode.ContainerCreateOptions): Promise<Sandbox> {
    const sandbox = new FakeSandbox(spec, this.agent);
    this.created.push(sandbox);
    return sandbox;
  }

  async cpuCount(): Promise<number> {
    return this.cpus;
  }

  get live(): string[] {
    return this.created.filter((sandbox) => !sandbox.removed).map((sandbox) => sandbox.name);
  }
}

class FakeSandbox implements Sandbox {
  removed = false;
  readonly name: string;

  constructor(
    readonly spec: Dockerode.ContainerCreateOptions,
    private readonly agent: FakeAgent,
  ) {
    this.name = spec.name ?? 'sandbox';
  }

  async run(options: SandboxRunOptions): Promise<SandboxExit> {
    if (this.removed) throw new Error(`sandbox ${this.name} was removed`);
    if (options.signal?.aborted) return { exitCode: -1, cancelled: true };
    const kill = new AbortController();
    const onAbort = () => kill.abort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const killed = new Promise<'killed'>((resolve) => kill.signal.addEventListener('abort', () => resolve('killed'), { once: true }));
    try {
      const mounts = this.spec.HostConfig?.Mounts ?? [];
      const workspaceDir = mounts.find((mount) => mount.Target === this.spec.WorkingDir)?.Source;
      const instructionsFile = mounts.find((mount) => mount.Target === INSTRUCTIONS_PATH)?.Source;
      if (workspaceDir === undefined || instructionsFile === undefined) throw new Error('the sandbox spec mounts no workspace or instructions');
      const env = Object.fromEntries((this.spec.Env ?? []).map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]));
      const exit = this.agent({
        spec: this.spec,
        workspaceDir,
        instructions: await readFile(instructionsFile, 'utf8'),
        env,
        stdout: options.onStdout,
        stderr: options.onStderr,
        signal: kill.signal,
      });
      const outcome = await Promise.race([exit, killed]);
      return outcome === 'killed' ? { exitCode: 137, cancelled: true } : { exitCode: outcome, cancelled: false };
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
    }
  }

  runInteractive(): Promise<SandboxExit> {
    return Promise.reject(new Error('the fake sandbox has no terminal'));
  }

  async remove(): Promise<void> {
    this.removed = true;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.remove();
  }
}

/**
 * The script agent's contract, on the host: the instructions run as `bash -e` in the workspace, their
 * output streamed, killed on abort. For tests of tsk's own scripts only.
 */
export const hostScriptAgent: FakeAgent = ({ workspaceDir, instructions, stdout, stderr, signal }) =>
  new Promise((resolve, reject) => {
    const child = spawn('bash', ['-e', '-c', instructions], { cwd: workspaceDir, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = lineWriter(stdout, { maxChars: 10_000 });
    const err = lineWriter(stderr, { maxChars: 10_000 });
    child.stdout.pipe(out);
    child.stderr.pipe(err);
    const onAbort = () => child.kill('SIGKILL');
    signal.addEventListener('abort', onAbort, { once: true });
    child.once('error', reject);
    child.once('close', (code, killedBy) => {
      signal.removeEventListener('abort', onAbort);
      resolve(code ?? (killedBy === null ? 1 : 137));
    });
  });

/** Task images without Docker: every task gets `tag`; `requests` counts what was asked. */
export function fakeTaskImages(tag = 'tsk-fake:latest'): TaskImages & { requests: string[] } {
  const requests: string[] = [];
  return {
    requests,
    ensure: async (spec) => {
      requests.push(spec.id);
      return tag;
    },
  };
}
