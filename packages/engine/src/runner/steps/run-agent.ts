import type Dockerode from 'dockerode';
import { INSTRUCTIONS_PATH, type Agent } from '../../agents/index.js';
import type { EnvVar } from '../../config/index.js';
import { buildSandboxSpec, SandboxContainer, type SandboxNetwork, type TerminalSession } from '../../docker/index.js';
import type { LogSink } from '../../logging/index.js';
import type { TaskSpec } from '../../model/index.js';

export interface RunAgentOptions {
  docker: Dockerode;
  spec: TaskSpec;
  agent: Agent;
  image: string;
  workspaceDir: string;
  instructionsFile: string;
  /** The sandbox's environment: the task's own, what the machine grants, the agent's. */
  env: EnvVar[];
  /** The task's own copies of the agent's login, by path in the sandbox user's home. */
  homeMounts: Record<string, string>;
  /** The resolv.conf an isolated sandbox gets. */
  resolvConfFile: string;
  network: SandboxNetwork;
  workerName: string;
  /** The task's CPU limit, already clamped to what the engine has. */
  cpus: number;
  log: LogSink;
  signal?: AbortSignal;
  /** Run an interactive shell on this terminal instead of the agent (`tsk shell`). */
  terminal?: TerminalSession;
}

export interface AgentRunResult {
  exitCode: number;
  cancelled: boolean;
  /** Agent-reported success (undefined when the agent reports nothing). */
  agentSuccess: boolean | undefined;
  summary: string | undefined;
}

/**
 * What an interactive sandbox runs: the rendered instructions, then an interactive bash in the workspace.
 * Not a login shell (`bash -l`): Debian's /etc/profile resets PATH and would hide the stack's tools
 * (cargo, go, pip's user bin) that the image puts on it.
 */
export const SHELL_COMMAND: readonly string[] = ['bash', '-c', `cat ${INSTRUCTIONS_PATH}; echo; exec bash`];

/**
 * Run the agent in its sandbox, streaming its rendered output; or, with a terminal, an interactive shell
 * on it (the agent installed and authenticated, for the user to run). The container is removed however
 * it ends.
 */
export async function runAgent(options: RunAgentOptions): Promise<AgentRunResult> {
  const { spec, agent, log, terminal } = options;
  const parser = agent.createLogParser();
  await using container = await SandboxContainer.create(
    options.docker,
    buildSandboxSpec({
      taskId: spec.id,
      workerName: options.workerName,
      image: options.image,
      project: spec.project,
      workspaceDir: options.workspaceDir,
      instructionsFile: options.instructionsFile,
      command: terminal ? [...SHELL_COMMAND] : agent.command(),
      env: options.env,
      homeMounts: options.homeMounts,
      resolvConfFile: options.resolvConfFile,
      volumes: spec.config.volumes,
      devices: spec.config.devices,
      memoryGb: spec.config.memoryGb,
      cpus: options.cpus,
      network: options.network,
      interactive: terminal !== undefined,
    }),
  );
  if (terminal) {
    log.write('tsk', `Starting a shell in container ${container.name} (${agent.name} installed); exit or Ctrl+D saves the work as a branch`);
    const exit = await container.runInteractive(terminal, { signal: options.signal });
    if (exit.cancelled) return { ...exit, agentSuccess: undefined, summary: undefined };
    // A shell's exit status is its last command's (`sleep` stopped with Ctrl+C, then Ctrl+D: 130), not a
    // verdict on the work: the session ended as the user chose, and its work is collected like any task's.
    log.write('tsk', `Shell exited with code ${exit.exitCode}`);
    return { exitCode: 0, cancelled: false, agentSuccess: undefined, summary: undefined };
  }
  log.write('tsk', `Starting ${agent.name} agent in container ${container.name}`);
  const exit = await container.run({
    onStdout: (line) => parser.parse(line).forEach((rendered) => log.write('agent', rendered)),
    onStderr: (line) => log.write('agent', line),
    signal: options.signal,
  });
  const outcome = parser.outcome();
  return { ...exit, agentSuccess: outcome.success, summary: outcome.summary };
}
