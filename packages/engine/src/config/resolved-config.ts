import type { AgentApiEndpoints } from '../agent-api/endpoints.js';
import type { AgentName } from '../model/agent-name.js';
import type { ConfigWarning } from './tsk-keys.js';

/** A bind mount of a host path (`~` already expanded) or a tsk-managed named volume (`tsk-` prefixed). */
export type VolumeMount =
  | { kind: 'bind'; host: string; container: string; readonly: boolean }
  | { kind: 'named'; name: string; container: string; readonly: boolean };

export interface EnvVar {
  name: string;
  value: string;
}

/**
 * An extra CA file from `ca_certificates`: its absolute path (for messages) and its PEM text, read when
 * the task is created so the task (and a worker on another machine) trusts exactly what was configured.
 */
export interface CaCertificate {
  path: string;
  content: string;
}

/** Dockerfile lines that replace or add a stack or agent layer. */
export interface LayerSetup {
  setup?: string;
}

/**
 * Everything that decides how one task runs, resolved from all configuration levels at creation time
 * and stored with the task, so a task runs with the configuration it was created with.
 */
export interface TaskConfig {
  agent: AgentName;
  /** Explicit stack; `undefined` means auto-detect from the repository. */
  stack: string | undefined;
  /** @defaultValue 12 */
  memoryGb: number;
  /** @defaultValue 8 */
  cpu: number;
  /** Dockerfile lines for the project layer. */
  setup: string | undefined;
  stackConfig: Record<string, LayerSetup>;
  agentConfig: Record<string, LayerSetup>;
  hostPorts: number[];
  /** Stored with the task (and so in the queue's Redis): never secrets. */
  env: EnvVar[];
  /** Names of variables the sandbox gets from the environment of the machine that runs it. */
  envFromWorker: string[];
  volumes: VolumeMount[];
  devices: string[];
  /** Full squid.conf text (inline `squid_conf`, or the contents of `squid_conf_path`). */
  squidConf: string | undefined;
  gitTown: boolean;
  /** With a shared remote, also push the result as the branch `tsk/<type>/<name>/<id>` (not only `refs/tsk/results/<id>`). */
  pushBranches: boolean;
  /** Extra CA files trusted inside image builds and sandboxes, contents included. */
  caCertificates: CaCertificate[];
  /** @defaultValue 'debian:trixie-slim' (`DEFAULT_BASE_IMAGE`) */
  baseImage: string;
  /** @defaultValue true */
  networkIsolation: boolean;
  /** Budget: the agent is stopped once the task's cost passes this (US dollars; Claude reports cost). */
  maxCostUsd?: number;
  /** Budget: the agent is stopped after this wall time. */
  timeoutSeconds?: number;
  /** Budget: most agent turns, where the agent takes a limit (Claude's `--max-turns`). */
  maxTurns?: number;
  /** The model the agent uses; undefined: the agent's own default. */
  model?: string;
}

/**
 * Whose jobs a worker runs and what they may ask of its machine (`[worker]`). Jobs signed by the
 * worker's owner may ask what `tsk run` may; every other setting here limits jobs of other signers, and
 * its default refuses.
 */
export interface WorkerPolicy {
  /**
   * Shared remotes other signers' tasks may use besides the worker's own `remote` (the worker fetches from
   * and pushes to them with its own credentials).
   */
  remotes: string[];
  /** Teammates' public keys (`[worker] trusted_keys`). */
  trustedKeys: { name: string; key: string }[];
  /** A file of more of them, one `<key> <name>` per line (absolute). */
  trustedKeysFile: string | undefined;
  allowBindMounts: boolean;
  allowDevices: boolean;
  allowPrivileged: boolean;
  allowNoNetworkIsolation: boolean;
  allowSquidConf: boolean;
  /** `setup`, `stack_config` and `agent_config` layers. */
  allowImageLayers: boolean;
  /** Host ports that may be forwarded. */
  hostPorts: number[];
  /** Base images allowed besides the worker's own `base_image`. */
  baseImages: string[];
  maxMemoryGb: number;
  maxCpu: number;
  /** Budget ceiling of every task this machine runs, whoever signed it (`[worker] max_cost_usd`). */
  maxCostUsd: number | undefined;
  /** Wall-time ceiling of every task this machine runs (`[worker] max_timeout`), in seconds. */
  maxTimeoutSeconds: number | undefined;
  /** Repositories (absolute paths; a folder covers what is below it) that may be read. */
  repositories: string[];
  /** Variables of the worker's environment that may be handed out (`env_from_worker`). */
  shareEnv: string[];
  /** Files holding the API keys other signers' agents get, by agent (absolute). */
  teamCredentials: Partial<Record<'claude' | 'codex', string>>;
  /** Re-queue tasks of a lost worker instead of failing them (any signer). */
  requeueLost: boolean;
  /**
   * What this worker serves besides the usual (`[worker] labels`, e.g. `gpu`): it takes only tasks whose
   * `requires` it has all of, and hands the others back to the queue.
   */
  labels: string[];
}

/** `[dashboard]`: where `tsk dashboard` listens, who may reach it, which repositories its page may queue on. */
export interface DashboardSettings {
  /** @defaultValue '127.0.0.1' */
  host: string;
  /** @defaultValue 7777 */
  port: number;
  /** The file holding its token (absolute); the token itself is read when the dashboard starts. */
  tokenFile: string | undefined;
  /** Host names it answers to besides its bound address. */
  hosts: string[];
  /** Name → absolute path of the repositories its page may queue tasks on (never a path from the browser). */
  repositories: Record<string, string>;
}

/** Settings that belong to the machine (user file and environment only), never to a project. */
export interface MachineConfig {
  containerEngine: 'docker';
  redisUrl: string | undefined;
  remoteUrl: string | undefined;
  server: { workers: number; autoCleanAgeDays: number; startIntervalMs: number };
  /** `[proxy] idle_timeout`: how long a proxy stays up after its last task; 0 removes it at once. */
  proxy: { idleTimeoutMs: number };
  /** The web dashboard (`[dashboard]`). */
  dashboard: DashboardSettings;
  /** Where the agent API gateway sends agents' requests (`[agent_api]`). */
  agentApi: AgentApiEndpoints;
  worker: WorkerPolicy;
  /** The base image this machine's configuration names (`base_image`): other signers may always use it. */
  baseImage: string;
  /** The user file's path, for messages. */
  userFile: string;
  /** Where tsk keeps task workspaces and logs (`$TSK_DATA_HOME/tsk`). */
  dataDir: string;
  /** Where the user's tsk.toml and templates live (`$TSK_CONFIG_HOME/tsk`). */
  configDir: string;
  /** Where pids, locks and sockets live (`$TSK_RUNTIME_DIR/tsk`). */
  runtimeDir: string;
}

/**
 * Where the task's own image layers came from, for `tsk docker build --dry-run`: `<file>: <key>` for a
 * configuration key, the file's path for a Dockerfile snippet. Not part of the task: a worker builds the
 * same image whatever the origin.
 */
export interface LayerOrigins {
  setup?: string;
  stackConfig: Record<string, string>;
  agentConfig: Record<string, string>;
}

export interface ResolvedConfig {
  task: TaskConfig;
  /**
   * The shared git remote tasks of this project travel through (`TSK_REMOTE_URL` > `[project.<name>]
   * remote` > a trusted repository's `.tsk/tsk.toml` > `[defaults] remote` > `[remote] url`); undefined:
   * the task names the local repository, which only workers on this machine can use.
   */
  remote: string | undefined;
  machine: MachineConfig;
  /** Project name used for `[project.<name>]` and the workspace path. */
  project: string;
  layerOrigins: LayerOrigins;
  /**
   * What the user should change in their files: TSK keys read as tsk's, TSK keys tsk ignores. One line
   * each, the same text on every load, so a command that loads twice can print each once.
   */
  warnings: ConfigWarning[];
}
