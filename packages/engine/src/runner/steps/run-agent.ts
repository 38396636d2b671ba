import type Dockerode from 'dockerode';
import type { Agent } from '../../agents/index.js';
import type { EnvVar } from '../../config/index.js';
import { buildSandboxSpec, SandboxContainer, type SandboxNetwork } from '../../docker/index.js';
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
}

export interface AgentRunResult {
  exitCode: number;
  cancelled: boolean;
  /** Agent-reported success (undefined when the agent reports nothing). */
  agentSuccess: boolean | undefined;
  summary: string | undefined;
}

/** Run the agent in its sandbox, streaming its rendered output; the container is removed however it ends. */
export async function runAgent(options: RunAgentOptions): Promise<AgentRunResult> {
  const { spec, agent, log } = options;
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
      command: agent.command(),
      env: options.env,
      homeMounts: options.homeMounts,
      resolvConfFile: options.resolvConfFile,
      volumes: spec.config.volumes,
      devices: spec.config.devices,
      memoryGb: spec.config.memoryGb,
      cpus: options.cpus,
      network: options.network,
    }),
  );
  log.write('tsk', `Starting ${agent.name} agent in container ${container.name}`);
  const exit = await container.run({
    onStdout: (line) => parser.parse(line).forEach((rendered) => log.write('agent', rendered)),
    onStderr: (line) => log.write('agent', line),
    signal: options.signal,
  });
  const outcome = parser.outcome();
  return { ...exit, agentSuccess: outcome.success, summary: outcome.summary };
}
