import type convict from 'convict';
import type { AgentName } from '../model/agent-name.js';
import { DEFAULT_AGENT_API_ENDPOINTS } from '../agent-api/endpoints.js';
import * as format from './formats.js';

/** A `stack_config.<stack>` or `agent_config.<agent>` table as written in TOML. */
export interface LayerSetupTable {
  setup: string | null;
}

/** A `volumes` entry as written in TOML (validated by {@link format.volumeList}). */
export interface VolumeTable {
  host?: string;
  name?: string;
  container: string;
  readonly?: boolean;
}

/**
 * The keys shared by the user file's `[defaults]` and `[project.<name>]` tables and by a project's
 * `.tsk/tsk.toml`, as written in TOML. `null` means "not set"; TOML itself has no null.
 */
export interface SharedTable {
  agent: AgentName;
  stack: string | null;
  memory_gb: number;
  cpu: number;
  setup: string | null;
  stack_config: Record<string, LayerSetupTable>;
  agent_config: Record<string, LayerSetupTable>;
  host_ports: number[];
  env: { name: string; value: string }[];
  env_from_worker: string[];
  volumes: VolumeTable[];
  devices: string[];
  squid_conf: string | null;
  squid_conf_path: string | null;
  git_town: boolean;
  remote: string | null;
  push_branches: boolean;
  ca_certificates: string[];
  max_cost_usd: number | null;
  timeout: string | null;
  max_turns: number | null;
  model: string | null;
}

/**
 * Convict schema of the shared keys. Its defaults are tsk's built-in defaults (the lowest level).
 * `stack_config` and `agent_config` are maps keyed by stack or agent name; convict can only check that
 * they are tables, so each entry is validated separately against {@link layerSetupSchema}.
 */
export const sharedSchema: convict.Schema<SharedTable> = {
  agent: { doc: 'Agent that works on tasks.', format: format.agentName, default: 'claude' },
  stack: { doc: 'Stack layer; unset means auto-detect.', format: format.stackName, default: null, nullable: true },
  memory_gb: { doc: 'Sandbox memory limit in GiB.', format: format.positiveNumber, default: 12 },
  cpu: { doc: 'Sandbox CPU limit.', format: format.positiveNumber, default: 8 },
  setup: { doc: 'Dockerfile lines for the project layer.', format: format.text, default: null, nullable: true },
  stack_config: { doc: 'Per-stack layer overrides: stack_config.<stack>.setup.', format: Object, default: {} },
  agent_config: { doc: 'Per-agent layer overrides: agent_config.<agent>.setup.', format: Object, default: {} },
  host_ports: { doc: 'Host ports reachable from the sandbox.', format: format.portList, default: [] },
  env: { doc: 'Environment variables: [{ name, value }] (stored with the task: never secrets).', format: format.envList, default: [] },
  env_from_worker: {
    doc: 'Variables the sandbox gets from the environment of the machine that runs the task (secrets stay out of the queue).',
    format: format.envNameList,
    default: [],
  },
  volumes: { doc: 'Mounts: [{ host | name, container, readonly }].', format: format.volumeList, default: [] },
  devices: { doc: 'Host devices passed to the sandbox.', format: format.deviceList, default: [] },
  squid_conf: { doc: 'Full squid.conf text for the proxy.', format: format.text, default: null, nullable: true },
  squid_conf_path: { doc: 'File holding squid.conf.', format: format.nonEmptyText, default: null, nullable: true },
  git_town: { doc: 'Record git-town parents on result branches.', format: format.boolean, default: false },
  remote: { doc: 'Shared git remote this project\'s snapshots and results travel through.', format: format.remoteUrl, default: null, nullable: true },
  push_branches: { doc: 'With a shared remote, also push results as tsk/… branches.', format: format.boolean, default: false },
  ca_certificates: { doc: 'Extra CA files trusted in builds and sandboxes.', format: format.pathList, default: [] },
  max_cost_usd: { doc: 'Stop a Claude task once its cost passes this many US dollars; its work is kept.', format: format.positiveNumber, default: null, nullable: true },
  timeout: { doc: 'Stop the agent after this wall time ("90m", "2h"); its work is kept.', format: format.duration(), default: null, nullable: true },
  max_turns: { doc: 'Most agent turns (Claude).', format: format.positiveInteger, default: null, nullable: true },
  model: { doc: 'The model the agent uses (claude --model, codex -m); unset: the agent\'s own default.', format: format.modelName, default: null, nullable: true },
};

/** Convict schema of one `stack_config.<stack>` or `agent_config.<agent>` table. */
export const layerSetupSchema: convict.Schema<LayerSetupTable> = {
  setup: { doc: 'Dockerfile lines for this layer.', format: format.text, default: null, nullable: true },
};

/** The top level of the user file: machine settings plus the `[defaults]` and `[project.*]` tables. */
export interface UserTable {
  container_engine: 'docker';
  base_image: string;
  redis: { url: string | null };
  remote: { url: string | null };
  agent_api: { anthropic: string; anthropic_oauth: string; openai: string; chatgpt: string; openai_oauth: string };
  server: { workers: number; auto_clean_age_days: number; start_interval: string };
  proxy: { idle_timeout: string };
  dashboard: { host: string; port: number; token_file: string | null; hosts: string[]; repositories: Record<string, string> };
  worker: {
    trusted_keys: { name: string; key: string }[];
    trusted_keys_file: string | null;
    allow_bind_mounts: boolean;
    allow_devices: boolean;
    allow_privileged: boolean;
    allow_no_network_isolation: boolean;
    allow_squid_conf: boolean;
    allow_image_layers: boolean;
    host_ports: number[];
    base_images: string[];
    max_memory_gb: number;
    max_cpu: number;
    max_cost_usd: number | null;
    max_timeout: string | null;
    repositories: string[];
    share_env: string[];
    remotes: string[];
    team_credentials: { claude: string | null; codex: string | null };
    requeue_lost: boolean;
    labels: string[];
  };
  trusted_repositories: string[];
  defaults: Record<string, unknown>;
  project: Record<string, unknown>;
}

function policy(doc: string): convict.SchemaObj<boolean> {
  return { doc, format: format.boolean, default: false };
}

/**
 * Convict schema of the user file's top level. Only these keys read environment variables, and the
 * environment wins over the file. `defaults` and each `project.<name>` are validated with
 * {@link sharedSchema}.
 */
export const userSchema: convict.Schema<UserTable> = {
  container_engine: { doc: 'Container engine.', format: format.containerEngine, default: 'docker' },
  base_image: {
    doc: 'Image the base layer starts FROM.',
    format: format.nonEmptyText,
    default: 'debian:trixie-slim',
    env: 'TSK_BASE_IMAGE',
  },
  redis: {
    url: { doc: 'Redis for the queue; unset = embedded.', format: format.redisUrl, default: null, nullable: true, env: 'TSK_REDIS_URL' },
  },
  remote: {
    url: { doc: 'Shared git remote for snapshots and results.', format: format.remoteUrl, default: null, nullable: true, env: 'TSK_REMOTE_URL' },
  },
  // Where the agent API gateway sends agents' requests with the real credential: only this machine's own
  // settings decide it, never a job or a repository.
  agent_api: {
    anthropic: { doc: 'Anthropic API for claude tasks.', format: format.httpUrl, default: DEFAULT_AGENT_API_ENDPOINTS.anthropic, env: 'TSK_AGENT_API_ANTHROPIC' },
    anthropic_oauth: { doc: 'Where Claude logins are refreshed.', format: format.httpUrl, default: DEFAULT_AGENT_API_ENDPOINTS.anthropicOAuth, env: 'TSK_AGENT_API_ANTHROPIC_OAUTH' },
    openai: { doc: 'OpenAI API (with /v1) for codex tasks with an API key.', format: format.httpUrl, default: DEFAULT_AGENT_API_ENDPOINTS.openai, env: 'TSK_AGENT_API_OPENAI' },
    chatgpt: { doc: 'ChatGPT Codex backend for codex tasks with a ChatGPT login.', format: format.httpUrl, default: DEFAULT_AGENT_API_ENDPOINTS.chatgpt, env: 'TSK_AGENT_API_CHATGPT' },
    openai_oauth: { doc: 'Where ChatGPT logins are refreshed.', format: format.httpUrl, default: DEFAULT_AGENT_API_ENDPOINTS.openaiOAuth, env: 'TSK_AGENT_API_OPENAI_OAUTH' },
  },
  server: {
    workers: { doc: 'Tasks a worker runs at once.', format: format.positiveInteger, default: 1 },
    auto_clean_age_days: { doc: 'Age in days after which finished tasks are cleaned.', format: format.nonNegativeNumber, default: 7 },
    start_interval: { doc: 'Least time between two task starts of one worker ("2s"), so agents do not hit their API at once.', format: format.duration({ allowZero: true }), default: '2s' },
  },
  // How long a proxy stays up after its last task: a repeated `tsk run` then finds it warm. The proxy's
  // idle reaper (a small detached process the last tsk process to leave it starts) removes it once this
  // has passed, also when no tsk process of its lock folder runs again or the folder is deleted; a
  // worker's sweep and any tsk process whose task ends do too; `tsk proxy stop` at once.
  proxy: {
    idle_timeout: {
      doc: 'How long a network proxy stays up after its last task ends ("10m"), so the next task starts on it; 0 removes it at once.',
      format: format.duration({ allowZero: true }),
      default: '2m',
      env: 'TSK_PROXY_IDLE_TIMEOUT',
    },
  },
  // The web dashboard (`tsk dashboard`, `tsk server start --dashboard`). Bound beyond loopback it needs a
  // token (`token_file`, or TSK_DASHBOARD_TOKEN: the value itself is never a configuration key, so it is
  // never printed with the configuration); `repositories` are the only ones its page may queue tasks on.
  dashboard: {
    host: { doc: 'Address the dashboard listens on; anything but loopback needs a token.', format: format.listenHost, default: '127.0.0.1' },
    port: { doc: 'Port of the dashboard.', format: format.port, default: 7777 },
    token_file: { doc: 'File holding the token the dashboard asks for (one line; keep it private).', format: format.nonEmptyText, default: null, nullable: true },
    hosts: { doc: 'Host names the dashboard answers to besides its bound address (DNS rebinding is refused), e.g. ["tsk.example.internal"].', format: format.hostNameList, default: [] },
    repositories: { doc: 'Repositories the dashboard may queue tasks on: { name = "/path" }.', format: format.namedPaths, default: {} },
  },
  // Whose jobs this worker runs, and what jobs signed by anyone but its owner may ask of this machine
  // (the owner's own jobs may ask what `tsk run` may).
  worker: {
    trusted_keys: { doc: 'Teammates whose tasks this worker runs: [{ name, key }].', format: format.trustedKeyList, default: [] },
    trusted_keys_file: { doc: 'A file of trusted keys, one "<key> <name>" per line.', format: format.nonEmptyText, default: null, nullable: true },
    allow_bind_mounts: policy('Accept jobs that bind-mount host paths.'),
    allow_devices: policy('Accept jobs that pass host devices.'),
    allow_privileged: policy('Accept jobs that ask for privileged mode.'),
    allow_no_network_isolation: policy('Accept jobs without network isolation.'),
    allow_squid_conf: policy('Accept jobs with their own proxy configuration (squid_conf).'),
    allow_image_layers: policy('Accept jobs with their own image layers (setup, stack_config, agent_config).'),
    host_ports: { doc: 'Host ports other signers’ jobs may have forwarded.', format: format.portList, default: [] },
    base_images: { doc: 'Base images other signers’ jobs may use besides base_image.', format: format.textList, default: [] },
    max_memory_gb: { doc: 'Most memory (GiB) other signers’ jobs may ask for.', format: format.positiveNumber, default: 12 },
    max_cpu: { doc: 'Most CPUs other signers’ jobs may ask for.', format: format.positiveNumber, default: 8 },
    max_cost_usd: { doc: 'Budget ceiling (US dollars) of every task this machine runs: a job asking for more, or for none, gets this.', format: format.positiveNumber, default: null, nullable: true },
    max_timeout: { doc: 'Wall-time ceiling ("2h") of every task this machine runs: a job asking for more, or for none, gets this.', format: format.duration(), default: null, nullable: true },
    repositories: { doc: 'Repositories (paths; folders include what is below) other signers’ jobs may read.', format: format.pathList, default: [] },
    remotes: { doc: 'Shared git remotes other signers’ tasks may use besides this worker’s own remote.', format: format.remoteUrlList, default: [] },
    share_env: { doc: 'Variables of this worker’s environment other signers’ jobs may get (env_from_worker).', format: format.envNameList, default: [] },
    team_credentials: {
      claude: { doc: 'File holding the Anthropic API key other signers’ claude tasks use.', format: format.nonEmptyText, default: null, nullable: true },
      codex: { doc: 'File holding the OpenAI API key other signers’ codex tasks use.', format: format.nonEmptyText, default: null, nullable: true },
    },
    requeue_lost: policy('Re-queue the tasks of a lost worker instead of failing them.'),
    labels: { doc: 'What this worker serves besides the usual, e.g. ["gpu"]: tasks added with --requires <label> run only on workers that have it.', format: format.workerLabelList, default: [] },
  },
  trusted_repositories: {
    doc: 'Repositories (main work trees) whose own .tsk/tsk.toml may set keys that reach this machine.',
    format: format.absolutePathList,
    default: [],
  },
  defaults: { doc: 'Shared keys for every project.', format: Object, default: {} },
  project: { doc: 'Shared keys per project: [project.<name>].', format: Object, default: {} },
};

/** Top-level user-file keys that hold shared tables rather than machine settings. */
export const SHARED_TABLE_KEYS = ['defaults', 'project'] as const;
/** Keys that are valid only at the top level of the user file. */
export const USER_ONLY_KEYS = Object.keys(userSchema).filter((key) => !(SHARED_TABLE_KEYS as readonly string[]).includes(key));
/** Keys valid in any shared table. */
export const SHARED_KEYS = Object.keys(sharedSchema);
