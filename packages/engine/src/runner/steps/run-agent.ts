import { INSTRUCTIONS_PATH, type Agent } from '../../agents/index.js';
import type { EnvVar } from '../../config/index.js';
import { buildSandboxSpec, type SandboxNetwork, type TerminalSession } from '../../docker/index.js';
import type { SandboxRuntime } from '../../docker/sandbox-runtime.js';
import type { LogSink } from '../../logging/index.js';
import { bridgedCommand } from '../../agent-api/index.js';
import type { AgentUsage } from '../../model/index.js';
import type { TaskBudget } from '../../trust/index.js';
import type { TaskSpec } from '../../model/index.js';

export interface RunAgentOptions {
  /** Where the sandbox runs (the Docker engine; a stand-in in the runner's fast tests). */
  sandboxes: SandboxRuntime;
  spec: TaskSpec;
  agent: Agent;
  image: string;
  workspaceDir: string;
  /** A copy-on-write workspace's volume, mounted instead of `workspaceDir`, and what it borrows read-only. */
  workspaceVolume?: { name: string; readOnlyPaths: string[] };
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
  /** The agent API gateway's socket and bridge, when the agent has an API: the command runs behind the bridge. */
  agentApi?: { socket: string; bridgeScript: string };
  /** Stop the agent (its work is kept) when one of these is reached. */
  budget?: TaskBudget;
  /** Resume this session of the agent's (its transcript already in the sandbox's home: `prepareSessionHome`). */
  resumeSessionId?: string;
}

export interface AgentRunResult {
  exitCode: number;
  cancelled: boolean;
  /** Agent-reported success (undefined when the agent reports nothing). */
  agentSuccess: boolean | undefined;
  summary: string | undefined;
  /** Cost and tokens, as the agent reported them (or tsk estimated them). */
  usage?: AgentUsage;
  /** Why tsk stopped the agent before it ended (a budget): its work is still collected. */
  stopped?: string;
  /** The agent's session id, when it reported one (see `agent-session.ts`). */
  sessionId?: string;
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
  const { spec, agent, log, terminal, budget = {} } = options;
  const parser = agent.createLogParser();
  const agentCommand = terminal ? [...SHELL_COMMAND] : agent.command({ maxTurns: budget.maxTurns, resumeSessionId: options.resumeSessionId, model: spec.config.model });
  if (!terminal && budget.maxTurns !== undefined && !agent.takesMaxTurns) log.write('warn', `max_turns ${budget.maxTurns}: ${agent.name} takes no turn limit; ignored`);
  await using container = await options.sandboxes.create(
    buildSandboxSpec({
      taskId: spec.id,
      workerName: options.workerName,
      image: options.image,
      project: spec.project,
      workspaceDir: options.workspaceDir,
      ...(options.workspaceVolume ? { workspaceVolume: options.workspaceVolume.name, readOnlyPaths: options.workspaceVolume.readOnlyPaths } : {}),
      instructionsFile: options.instructionsFile,
      command: options.agentApi ? bridgedCommand(agentCommand) : agentCommand,
      agentApi: options.agentApi,
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
  log.write('tsk', `Starting ${agent.name} agent in container ${container.name}${describeBudget(budget)}`);
  // One signal stops the container: the user's cancel, or a budget running out (then the work is kept).
  const stop = new AbortController();
  let stopped: string | undefined;
  const stopFor = (reason: string) => {
    if (stopped !== undefined || stop.signal.aborted) return;
    stopped = reason;
    log.write('warn', `Stopping the agent: ${reason}`);
    stop.abort();
  };
  const onCancel = () => stop.abort();
  if (options.signal?.aborted) stop.abort();
  options.signal?.addEventListener('abort', onCancel, { once: true });
  const timer = budget.timeoutSeconds === undefined ? undefined : setTimeout(() => stopFor(`timed out after ${formatSeconds(budget.timeoutSeconds ?? 0)}`), budget.timeoutSeconds * 1000);
  const checkCost = () => {
    const cost = parser.outcome().usage?.costUsd;
    if (budget.maxCostUsd !== undefined && cost !== undefined && cost > budget.maxCostUsd) stopFor(`budget exceeded: $${cost.toFixed(2)} of $${budget.maxCostUsd.toFixed(2)}`);
  };
  try {
    const exit = await container.run({
      onStdout: (line) => {
        parser.parse(line).forEach((rendered) => log.write('agent', rendered));
        checkCost();
      },
      onStderr: (line) => log.write('agent', line),
      signal: stop.signal,
    });
    const outcome = parser.outcome();
    const ran = { agentSuccess: outcome.success, summary: outcome.summary, ...(outcome.usage ? { usage: outcome.usage } : {}), ...(outcome.sessionId ? { sessionId: outcome.sessionId } : {}) };
    if (stopped !== undefined && !options.signal?.aborted) return { ...ran, exitCode: exit.exitCode, cancelled: false, stopped };
    return { ...ran, ...exit };
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onCancel);
  }
}

/** `90m`, `2h`, `45s`, `1h30m`: a budget's time as the user would write it. */
export function formatSeconds(seconds: number): string {
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const rest = seconds % 60;
  return [hours ? `${hours}h` : '', minutes ? `${minutes}m` : '', rest || seconds === 0 ? `${rest}s` : ''].join('');
}

function describeBudget(budget: TaskBudget): string {
  const parts = [
    budget.maxCostUsd === undefined ? '' : `$${budget.maxCostUsd.toFixed(2)}`,
    budget.timeoutSeconds === undefined ? '' : formatSeconds(budget.timeoutSeconds),
    budget.maxTurns === undefined ? '' : `${budget.maxTurns} turns`,
  ].filter(Boolean);
  return parts.length === 0 ? '' : ` (budget: ${parts.join(', ')})`;
}
