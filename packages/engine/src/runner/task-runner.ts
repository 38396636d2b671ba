import type Dockerode from 'dockerode';
import { chown, mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { AgentApiGateway, BRIDGE_URL, DEFAULT_AGENT_API_ENDPOINTS, writeBridgeScript, type AgentApiEndpoints, type AgentCredential } from '../agent-api/index.js';
import { getAgent, type HomeFile } from '../agents/index.js';
import { cutLine } from '../common/line-splitter.js';
import { runProcess } from '../common/run-process.js';
import { taskDir } from '../common/task-paths.js';
import { SANDBOX_RESOLV_CONF, taskLimits, type BuildLimits, type ImageBuilder, type TerminalSession } from '../docker/index.js';
import { TaskCancelledError, TskError } from '../errors/index.js';
import { collectResult, RemoteMirror, resultRef, snapshotRef, type RefUpdate } from '../git/index.js';
import { boundedSink, log as debug, LOG_LIMITS, type LogSink } from '../logging/index.js';
import type { TaskResult, TaskSource, TaskSpec } from '../model/index.js';
import type { SandboxNetworkProvider } from '../proxy/network-provider.js';
import { denialsSummaryLine, summaryWithDenials } from '../proxy/proxy-denials.js';
import { NO_GRANT, type TaskGrant } from '../trust/index.js';
import { agentIds, type AgentIds } from './agent-ids.js';
import { keepSessionTranscript, prepareSessionHome, type SessionOptions } from './agent-session.js';
import { dockerSandboxRuntime, type SandboxRuntime } from '../docker/sandbox-runtime.js';
import { dockerTaskImages, type TaskImages } from './steps/ensure-task-image.js';
import { runAgent, type AgentRunResult } from './steps/run-agent.js';
import { TaskWorkspace, workspaceModeFromEnv, type TaskWorkspaceOptions, type WorkspaceMode } from './task-workspace.js';

export interface TaskRunnerOptions {
  docker: Dockerode;
  images: ImageBuilder;
  network: SandboxNetworkProvider;
  /** `<dataDir>/tasks/<id>` holds each task's workspace and instructions while it runs. */
  dataDir: string;
  /** Recorded on containers (`tsk.worker`) so a later worker can reap what this one left. */
  workerName: string;
  /** @defaultValue the uid/gid of this process, or 1000:1000 when it is root */
  agentIds?: AgentIds;
  /** Where the agent API gateway sends agents' requests (`[agent_api]`). @defaultValue the real services */
  agentApiEndpoints?: AgentApiEndpoints;
  /** Copy-on-write workspaces where the engine can mount them, or always a copy. @defaultValue `TSK_WORKSPACES` (`copy`), else `auto` */
  workspaces?: WorkspaceMode;
  /** Where sandboxes run. @defaultValue containers of `docker` */
  sandboxes?: SandboxRuntime;
  /** Where task images come from. @defaultValue built and cached on `docker` by `images` */
  taskImages?: TaskImages;
}

export interface RunTaskOptions {
  /** Receives the task's lines sanitized, cut and capped by {@link boundedSink}. */
  log: LogSink;
  /** Abort to cancel: the container is killed and the task ends CANCELLED. */
  signal?: AbortSignal;
  /** What the machine gives the task beyond its spec (credentials, `env_from_worker`). @defaultValue nothing */
  grant?: TaskGrant;
  /**
   * Run an interactive shell on this terminal instead of the agent (`tsk shell`): when it exits, its work
   * is collected like a finished task's, whatever its exit status.
   */
  terminal?: TerminalSession;
  /**
   * Asked just before a result is pushed to a shared remote: a reason not to (this worker was declared
   * lost meanwhile and the task ended without it), or undefined to go ahead. @defaultValue always go ahead
   */
  mayPublish?: () => Promise<string | undefined>;
  /** Keep the agent's session, and resume an earlier one (`tsk run`; see `agent-session.ts`). @defaultValue none */
  session?: SessionOptions;
}

/** The gateway's socket and the bridge script, in the task's directory. */
const GATEWAY_SOCKET = 'agent-api.sock';
const BRIDGE_SCRIPT = 'agent-api-bridge.cjs';

/** The run's options `execute` uses, defaults applied. */
type ExecuteOptions = Pick<RunTaskOptions, 'log' | 'signal' | 'terminal' | 'session'> & { grant: TaskGrant };

/** Where a task's workspace is cloned from and its result collected into: the origin, or a worker's mirror of a shared remote. */
interface TaskOrigin {
  source: Extract<TaskSource, { kind: 'local' }>;
  mirror: RemoteMirror | undefined;
}

/** What a task's run produced before its result was collected. */
interface Execution extends AgentRunResult {
  baseCommit: string;
  origin: TaskOrigin;
  workspace: TaskWorkspace;
  /** The agent failed on its API's rate or usage limit, which resets then (epoch ms). */
  rateLimitedUntil?: number;
  /** The agent's session transcript was kept (`session.keepTo`). */
  sessionKept: boolean;
}

/**
 * Runs one task from its spec to its result: workspace clone, network, image, sandboxed agent, result
 * branch. Serves both `tsk run` (inline) and the queue worker. Never throws for a task failure: every
 * outcome, including cancellation, is a {@link TaskResult}; the task directory, container and network are
 * always released. The spec must have been validated (`validateTaskSpec`): its values reach paths, git
 * and Docker.
 */
export class TaskRunner {
  private engineCpus: number | undefined;
  private readonly ids: AgentIds;
  private readonly sandboxes: SandboxRuntime;
  private readonly taskImages: TaskImages;

  constructor(private readonly options: TaskRunnerOptions) {
    this.ids = options.agentIds ?? agentIds();
    this.sandboxes = options.sandboxes ?? dockerSandboxRuntime(options.docker);
    this.taskImages = options.taskImages ?? dockerTaskImages(options);
  }

  async run(spec: TaskSpec, options: RunTaskOptions): Promise<TaskResult> {
    const { signal, grant = NO_GRANT } = options;
    // The one place a task's output is bounded: `tsk run`'s terminal and a worker's Redis stream and file
    // all get it through here.
    const log = boundedSink(options.log);
    const startedAt = new Date().toISOString();
    let baseCommit: string | undefined;
    let agentSessionId: string | undefined;
    // The agent writes the error and summary too (its exit report): they are stored with the task.
    const bounded = (text: string | undefined) => (text === undefined ? undefined : cutLine(text, LOG_LIMITS.lineChars));
    const finish = (status: TaskResult['status'], fields: Partial<TaskResult> = {}): TaskResult => ({
      id: spec.id,
      status,
      branch: undefined,
      commit: undefined,
      baseCommit,
      ...(agentSessionId === undefined ? {} : { agentSessionId }),
      ...fields,
      error: bounded(fields.error),
      summary: bounded(fields.summary),
      startedAt,
      finishedAt: new Date().toISOString(),
    });
    if (spec.publishes !== undefined) {
      baseCommit = spec.source.commit;
      const failure = await this.republish(spec, spec.publishes, options.mayPublish, log).catch((error: unknown) => (error instanceof TskError ? error.userMessage : (error as Error).message));
      if (failure !== undefined) return finish('FAILED', { error: failure });
      return finish('COMPLETE', { branch: spec.branch, commit: spec.publishes.commit, summary: `The result task ${spec.publishes.task} kept, pushed` });
    }
    const dir = taskDir(this.options.dataDir, spec.id);
    let workspace: TaskWorkspace | undefined;
    // The network's release, started when the sandbox is gone: it runs while the result is collected.
    // Its failure is held as a value: a rejection nobody awaits yet would be an unhandled one.
    let networkReleased: Promise<Error | undefined> | undefined;
    try {
      const result = await this.execute(
        spec,
        dir,
        { grant, log, signal, terminal: options.terminal, session: options.session },
        (prepared) => {
          workspace = prepared;
          baseCommit = prepared.baseCommit;
        },
        (released) => (networkReleased = released.then(() => undefined, (error: unknown) => (error instanceof Error ? error : new Error(String(error))))),
      );
      if (result.sessionKept) agentSessionId = result.sessionId;
      const usage = result.usage === undefined ? {} : { usage: result.usage };
      if (result.cancelled) return finish('CANCELLED', { error: 'Cancelled', ...usage });
      if (result.rateLimitedUntil !== undefined) {
        const retryAt = new Date(result.rateLimitedUntil).toISOString();
        return finish('FAILED', { error: `rate limited until ${retryAt}`, summary: result.summary, retryAt, ...usage });
      }
      if (result.stopped === undefined) {
        if (result.exitCode !== 0) return finish('FAILED', { error: `Agent exited with code ${result.exitCode}`, summary: result.summary, ...usage });
        if (result.agentSuccess === false) return finish('FAILED', { error: result.summary ?? 'Agent reported failure', summary: result.summary, ...usage });
      }
      // A budget stop keeps the work: collected and published like a finished task's, then FAILED with why.
      const collected = await this.collect(spec, dir, result, log);
      // As before the two overlapped: a network that could not be released (an engine going away) fails
      // the task, which keeps what was collected, like a budget stop: its branch exists by now, and a
      // FAILED task without it would leave the branch nobody's. Nothing is published.
      const releaseFailure = await networkReleased;
      if (releaseFailure !== undefined) return finish('FAILED', { ...collected, error: releaseFailure instanceof TskError ? releaseFailure.userMessage : releaseFailure.message, ...usage });
      const failure = result.origin.mirror === undefined ? undefined : await this.publish(spec, result, collected.commit, options.mayPublish, log);
      const error = result.stopped ?? failure;
      return finish(error === undefined ? 'COMPLETE' : 'FAILED', { ...collected, error, ...usage });
    } catch (thrown) {
      const error = bodyError(thrown);
      if (error instanceof TaskCancelledError || signal?.aborted) return finish('CANCELLED', { error: 'Cancelled' });
      debug.runner('[%s] failed: %O', spec.id, thrown);
      return finish('FAILED', { error: error instanceof TskError ? error.userMessage : (error as Error).message });
    } finally {
      // Settled already unless the task ended early (its failure, not the release's, is the task's error).
      const releaseFailure = await networkReleased;
      if (releaseFailure !== undefined) log.write('warn', `Could not release the network of task ${spec.id}: ${releaseFailure.message}`);
      // The volume before the folder under it; the base's lease ends with the task.
      await workspace?.release().catch((error: unknown) => log.write('warn', `Could not remove the workspace volume of task ${spec.id}: ${(error as Error).message}`));
      await rm(dir, { recursive: true, force: true }).catch((error: unknown) => {
        log.write('warn', `Could not remove task directory ${dir}: ${(error as Error).message}`);
      });
    }
  }

  private async execute(
    spec: TaskSpec,
    dir: string,
    { grant, log, signal, terminal, session }: ExecuteOptions,
    onWorkspace: (workspace: TaskWorkspace) => void,
    onNetworkRelease: (released: Promise<void>) => void,
  ): Promise<Execution> {
    const agent = getAgent(spec.agent);
    const instructionsFile = join(dir, 'instructions.md');
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await writeFile(instructionsFile, spec.instructions, { mode: 0o644 });
    // Before anything is set up: an agent that cannot authenticate would only fail later.
    if (agent.api && grant.credential === undefined) {
      throw new TskError('AGENT', `No ${agent.name} credential was granted to task ${spec.id}`, { hint: `run \`${agent.name} login\`` });
    }

    log.write('tsk', `Preparing workspace on branch ${spec.branch}`);
    const origin = await this.origin(spec, log);
    // The workspace and the network at once: neither needs the other (each is a few Docker or git round
    // trips a repeated task would otherwise wait for one after the other). The network comes before the
    // image: the image is built on it, so a build reaches only what the sandbox may.
    // A copy-on-write layer over a checkout shared by tasks of the same commit, or a clone of the task's own
    // (see task-workspace.ts): either way the sandbox can write no file of the user's repository or mirror.
    const [prepared, acquired] = await Promise.allSettled([
      TaskWorkspace.prepare(this.workspaceOptions(), spec, origin.source, dir, log, signal).then((workspace) => {
        onWorkspace(workspace);
        return workspace;
      }),
      this.options.network.acquire({ id: spec.id, config: spec.config, log, signal }),
    ]);
    if (prepared.status === 'rejected' || acquired.status === 'rejected') {
      if (acquired.status === 'fulfilled') await acquired.value.release().catch(() => undefined);
      throw prepared.status === 'rejected' ? prepared.reason : (acquired as PromiseRejectedResult).reason;
    }
    const workspace = prepared.value;
    const lease = acquired.value;
    let gateway: AgentApiGateway | undefined;
    try {
      throwIfCancelled(spec.id, signal);
      const limits = await this.limits(spec);
      // After the clone: the project layer may COPY files of the task's snapshot.
      const image = await this.taskImages.ensure(spec, this.ids, { log, signal, projectDir: workspace.projectDir, network: lease.network.build, limits });
      const api = agent.api?.sandbox(BRIDGE_URL);
      if (grant.credential !== undefined && api !== undefined) gateway = await this.openGateway(dir, grant.credential, log);
      const homeMounts = await this.writeHome(dir, api?.files ?? []);
      const keepsSession = terminal === undefined && session !== undefined;
      if (keepsSession) Object.assign(homeMounts, await prepareSessionHome(join(dir, 'home'), agent, spec.project, session));
      const resolvConfFile = join(dir, 'resolv.conf');
      await writeFile(resolvConfFile, SANDBOX_RESOLV_CONF, { mode: 0o644 });
      if (this.needsHandOver()) await this.handOver(dir);
      const mount = await workspace.mount(image, log);
      throwIfCancelled(spec.id, signal);
      const result = await runAgent({
        sandboxes: this.sandboxes,
        spec,
        agent,
        image,
        workspaceDir: mount.hostDir,
        ...(mount.volume ? { workspaceVolume: mount.volume } : {}),
        instructionsFile,
        env: [...spec.config.env, ...grant.env, ...agent.env(), ...(api?.env ?? [])],
        homeMounts,
        resolvConfFile,
        network: lease.network,
        workerName: this.options.workerName,
        cpus: limits.cpus,
        log,
        signal,
        terminal,
        agentApi: gateway && { socket: join(dir, GATEWAY_SOCKET), bridgeScript: join(dir, BRIDGE_SCRIPT) },
        budget: grant.budget,
        ...(keepsSession && session.resume !== undefined ? { resumeSessionId: session.resume.sessionId } : {}),
      });
      const sessionKept =
        keepsSession && session.keepTo !== undefined
          ? await keepSessionTranscript(join(dir, 'home'), agent, spec.project, result.sessionId, session.keepTo).catch((error: unknown) => {
              log.write('warn', `Could not keep the agent's session: ${(error as Error).message}`);
              return false;
            })
          : false;
      // Each denial was said in the log as it happened; the count closes the run and goes into its summary.
      const denials = await lease.denials();
      if (denials.count > 0) log.write('warn', denialsSummaryLine(denials));
      const rateLimitedUntil = rateLimit(result, gateway);
      return { ...result, sessionKept, summary: summaryWithDenials(result.summary, denials), baseCommit: workspace.baseCommit, origin, workspace, ...(rateLimitedUntil === undefined ? {} : { rateLimitedUntil }) };
    } finally {
      await gateway?.close();
      // Not awaited here: the result is collected meanwhile (`run` waits for it either way).
      onNetworkRelease(lease.release());
    }
  }

  /**
   * The task's agent API gateway, on a socket in its directory (mounted into the sandbox), with the bridge
   * script the sandbox runs it through.
   */
  private async openGateway(dir: string, credential: AgentCredential, log: LogSink): Promise<AgentApiGateway> {
    const socketPath = join(dir, GATEWAY_SOCKET);
    // A unix socket's path is at most 107 bytes.
    if (Buffer.byteLength(socketPath) > 100) {
      throw new TskError('AGENT', `The task directory ${dir} is too deep for the agent API socket`, { hint: 'use a shorter TSK_DATA_HOME' });
    }
    await writeBridgeScript(join(dir, BRIDGE_SCRIPT));
    const gateway = await AgentApiGateway.open({
      socketPath,
      credential,
      endpoints: this.options.agentApiEndpoints ?? DEFAULT_AGENT_API_ENDPOINTS,
      onNote: (line) => log.write('tsk', line),
    });
    log.write('tsk', `Agent API through tsk's gateway (${credential.kind === 'login' ? 'login' : 'API key'} from ${credential.source}; the sandbox holds a placeholder)`);
    return gateway;
  }

  /**
   * Write the agent's home files (placeholders: no secret) under `<dir>/home` and return what to mount where: each top-level entry
   * of that folder at the same place in the sandbox user's home. These are the task's own copies, removed
   * with the task; nothing the agent writes there reaches the host's files.
   */
  private async writeHome(dir: string, files: readonly HomeFile[]): Promise<Record<string, string>> {
    const home = join(dir, 'home');
    await mkdir(home, { mode: 0o700 });
    const mounts: Record<string, string> = {};
    for (const file of files) {
      const path = join(home, file.path);
      await mkdir(dirname(path), { recursive: true, mode: 0o700 });
      await writeFile(path, file.content, { mode: 0o600 });
      const top = file.path.split('/')[0] ?? file.path;
      mounts[top] = join(home, top);
    }
    return mounts;
  }

  /**
   * A local source is the origin itself. A remote one is fetched into this worker's mirror of the remote
   * (only what is new), pinned there under the task's own snapshot ref when it starts elsewhere (a chained
   * task starts from its parent's result), and the workspace is cloned from the mirror.
   */
  private async origin(spec: TaskSpec, log: LogSink): Promise<TaskOrigin> {
    const { source } = spec;
    if (source.kind === 'local') return { source, mirror: undefined };
    const mirror = new RemoteMirror(this.options.dataDir, source.url);
    await mirror.fetch([source.ref], log);
    const ref = snapshotRef(spec.id);
    if (source.ref !== ref) await mirror.pin(spec.id, source.commit);
    return { source: { kind: 'local', repoPath: mirror.dir, ref, commit: source.commit }, mirror };
  }

  private async collect(spec: TaskSpec, dir: string, run: Execution, log: LogSink): Promise<Partial<TaskResult>> {
    const { mirror, source } = run.origin;
    const result = await collectResult({
      ...run.workspace.collected,
      scratchDir: join(dir, 'collect'),
      branch: spec.branch,
      ref: mirror && resultRef(spec.id),
      baseCommit: run.baseCommit,
      taskName: spec.name,
      repoPath: source.repoPath,
      parentBranch: spec.parentBranch,
      gitTown: spec.config.gitTown,
      fastForward: spec.followUp && { taskId: spec.followUp.taskId, branch: spec.followUp.branch, from: spec.followUp.commit },
      log,
    });
    if (!result.changed) {
      log.write('tsk', 'No changes: no branch created');
      return { summary: run.summary ?? 'No changes' };
    }
    // A follow-up that could not move its earlier task's branch says why in its summary too.
    const summary = result.note === undefined ? run.summary : [result.note, run.summary].filter(Boolean).join('; ');
    return { branch: result.branch ?? spec.branch, commit: result.commit, summary };
  }

  /**
   * Push a remote task's result from the mirror: `refs/tsk/results/<id>`, the branch too with
   * `push_branches`, and a chained task's start under its own snapshot ref (where its children find it
   * when it changed nothing). Returns why the task fails instead of completing, or undefined. The result
   * stays in the mirror when the push fails, and is never pushed once the worker was declared lost.
   */
  private async publish(
    spec: TaskSpec,
    run: Execution,
    commit: string | undefined,
    mayPublish: RunTaskOptions['mayPublish'],
    log: LogSink,
  ): Promise<string | undefined> {
    const mirror = run.origin.mirror;
    if (mirror === undefined) return undefined;
    const updates = commit === undefined ? [] : resultUpdates(spec, commit);
    if (spec.parentTaskId !== undefined) updates.push({ commit: run.baseCommit, ref: snapshotRef(spec.id), force: true });
    if (updates.length === 0) return undefined;
    const refused = await mayPublish?.();
    if (refused !== undefined) {
      log.write('warn', `Result not pushed: ${refused}`);
      return refused;
    }
    try {
      await mirror.push(updates, log);
    } catch (error) {
      const reason = error instanceof TskError ? error.userMessage : (error as Error).message;
      const ref = resultRef(spec.id);
      const kept =
        commit === undefined
          ? ''
          : `; the result (${commit.slice(0, 12)}) is kept on worker ${this.options.workerName} in ${mirror.dir} as ${ref}: once the remote takes it, push it with \`git -C ${mirror.dir} push ${mirror.url} ${ref}\``;
      const failure = `${reason}${kept}`;
      log.write('warn', failure);
      return failure;
    }
    if (commit !== undefined) log.write('tsk', `Result pushed to ${mirror.url} as ${resultRef(spec.id)}${spec.config.pushBranches ? ` and branch ${spec.branch}` : ''} (${commit.slice(0, 12)}): \`tsk fetch ${spec.id}\` brings it home`);
    return undefined;
  }

  /**
   * `tsk retry --push`: push, as this task's result, the result an earlier task's push failed to deliver
   * and this worker kept in its mirror. No workspace, no agent. Returns why it failed, or undefined.
   */
  private async republish(spec: TaskSpec, publishes: { task: string; commit: string }, mayPublish: RunTaskOptions['mayPublish'], log: LogSink): Promise<string | undefined> {
    if (spec.source.kind !== 'remote') return 'publishes needs a remote source';
    const mirror = new RemoteMirror(this.options.dataDir, spec.source.url);
    if (!(await mirror.holds(resultRef(publishes.task), publishes.commit))) {
      return `worker ${this.options.workerName} does not keep the result of task ${publishes.task} (${publishes.commit.slice(0, 12)})`;
    }
    const updates = resultUpdates(spec, publishes.commit);
    const refused = await mayPublish?.();
    if (refused !== undefined) return refused;
    log.write('tsk', `Pushing the result task ${publishes.task} kept (${publishes.commit.slice(0, 12)})`);
    await mirror.push(updates, log);
    log.write('tsk', `Result pushed to ${mirror.url} as ${resultRef(spec.id)} (${publishes.commit.slice(0, 12)}): \`tsk fetch ${spec.id}\` brings it home`);
    return undefined;
  }

  /** Whether the sandbox user differs from this process's user (tsk running as root). */
  private needsHandOver(): boolean {
    return process.getuid?.() !== this.ids.uid;
  }

  /** Give the task's directory and the sandbox's home to the sandbox user (the workspace: `TaskWorkspace.mount`). */
  private async handOver(dir: string): Promise<void> {
    await chown(dir, this.ids.uid, this.ids.gid);
    const result = await runProcess('chown', ['-R', `${this.ids.uid}:${this.ids.gid}`, '--', join(dir, 'home')]);
    if (result.exitCode !== 0) {
      throw new TskError('CONTAINER', `Could not hand the workspace to uid ${this.ids.uid}: ${result.stderr.trim()}`);
    }
  }

  private workspaceOptions(): TaskWorkspaceOptions {
    const { docker, dataDir, workerName, workspaces } = this.options;
    return { docker, dataDir, workerName, ids: this.ids, mode: workspaces ?? workspaceModeFromEnv() };
  }

  /** The task's limits, its CPUs clamped to what the engine has (asked once per runner). */
  private async limits(spec: TaskSpec): Promise<BuildLimits> {
    this.engineCpus ??= await this.sandboxes.cpuCount();
    return taskLimits(spec.config, this.engineCpus);
  }
}

/** Where a task's result goes on its remote: `refs/tsk/results/<id>`, and its branch too with `push_branches`. */
function resultUpdates(spec: TaskSpec, commit: string): RefUpdate[] {
  const updates: RefUpdate[] = [{ commit, ref: resultRef(spec.id) }];
  if (spec.config.pushBranches) updates.push({ commit, ref: `refs/heads/${spec.branch}` });
  return updates;
}

/**
 * When the agent failed because its API said it was over a rate or usage limit: the limit's reset. What the
 * gateway saw decides (the API's own answer), not what the agent printed; a limit the agent waited out and
 * went on from is no reason.
 */
function rateLimit(result: AgentRunResult, gateway: AgentApiGateway | undefined): number | undefined {
  const failed = result.exitCode !== 0 || result.agentSuccess === false;
  if (!failed || result.cancelled || result.stopped !== undefined || gateway === undefined) return undefined;
  const { lastStatus, rateLimitedUntil } = gateway.activity;
  return lastStatus === 429 ? rateLimitedUntil : undefined;
}

function throwIfCancelled(taskId: string, signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new TaskCancelledError(taskId);
}

/**
 * What went wrong in the body of an `await using` whose disposal failed too (a sandbox the engine could
 * neither run nor remove while it went away): the body's error, not "An error was suppressed during
 * disposal". What was not disposed of is swept later (the worker's reaper).
 */
export function bodyError(error: unknown): unknown {
  let current = error;
  // A SuppressedError's `error` is the disposal's, `suppressed` what was thrown before it.
  while (current instanceof Error && current.name === 'SuppressedError' && 'suppressed' in current) current = (current as Error & { suppressed: unknown }).suppressed;
  return current;
}
