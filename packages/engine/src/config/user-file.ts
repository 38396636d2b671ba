import type { DashboardSettings, MachineConfig, WorkerPolicy } from './resolved-config.js';
import { isAbsolute, normalize } from 'node:path';
import { ConfigError } from '../errors/index.js';
import { parseDuration } from '../common/duration.js';
import { durationSeconds, expandHome } from './layer-from-table.js';
import { describeValue, isTable } from './describe-value.js';
import { SHARED_KEYS, userSchema, type UserTable } from './schema.js';
import { validateSharedTable, type ValidatedTable } from './shared-table.js';
import { translateUserFile, type ConfigWarning } from './tsk-keys.js';
import { checkEnvironment, checkTable, loadTable } from './validate-table.js';

/** Machine settings from the user file and the environment (directories are added by the loader). */
export type MachineSettings = Omit<MachineConfig, 'dataDir' | 'configDir' | 'runtimeDir' | 'userFile'>;

/** The user file, fully validated: machine settings, `[defaults]` and every `[project.<name>]`. */
export interface UserFile {
  machine: MachineSettings;
  defaults: ValidatedTable | undefined;
  /** Keyed by the table name as written in the file. */
  projects: Map<string, ValidatedTable>;
  /** `trusted_repositories` as written (absolute or `~` paths, not yet expanded or resolved). */
  trustedRepositories: string[];
  /** TSK keys read as tsk's, or ignored, anywhere in the file. */
  warnings: ConfigWarning[];
}

function misplacedAtTop(key: string): string | undefined {
  return SHARED_KEYS.includes(key) ? `${key} is a shared key; set it under [defaults] or [project.<name>]` : undefined;
}

/**
 * Validates the user file's contents (`{}` when there is no file) and the environment variables that
 * override it, and extracts the machine settings. Every `[project.<name>]` table is validated, not only
 * the current project's, so a mistake is reported where it is made rather than when that project runs.
 */
export function validateUserFile(written: Record<string, unknown>, file: string, env: NodeJS.ProcessEnv, home: string): UserFile {
  const { raw, warnings } = translateUserFile(written, file);
  checkTable(userSchema, raw, { file, prefix: '' }, misplacedAtTop);
  const usedEnv = checkEnvironment(userSchema, env);
  const defaults = raw.defaults === undefined ? undefined : validateSharedTable(raw.defaults, { file, prefix: 'defaults.' }, file);
  const projects = new Map<string, ValidatedTable>();
  for (const [name, table] of Object.entries(isTable(raw.project) ? raw.project : {})) {
    if (!isTable(table)) throw new ConfigError(`${file}: project.${name}: expected a table, got ${describeValue(table)}`);
    projects.set(name, validateSharedTable(table, { file, prefix: `project.${name}.` }, file));
  }
  const config = loadTable(userSchema, raw, file, usedEnv);
  const worker = config.get('worker');
  const path = (value: string, key: string): string => absolutePath(value, file, home, `worker.${key}`);
  const teamCredentials: WorkerPolicy['teamCredentials'] = {};
  if (worker.team_credentials.claude) teamCredentials.claude = path(worker.team_credentials.claude, 'team_credentials.claude');
  if (worker.team_credentials.codex) teamCredentials.codex = path(worker.team_credentials.codex, 'team_credentials.codex');
  const policy: WorkerPolicy = {
    trustedKeys: worker.trusted_keys,
    trustedKeysFile: worker.trusted_keys_file === null ? undefined : path(worker.trusted_keys_file, 'trusted_keys_file'),
    allowBindMounts: worker.allow_bind_mounts,
    allowDevices: worker.allow_devices,
    allowPrivileged: worker.allow_privileged,
    allowNoNetworkIsolation: worker.allow_no_network_isolation,
    allowSquidConf: worker.allow_squid_conf,
    allowImageLayers: worker.allow_image_layers,
    hostPorts: worker.host_ports,
    baseImages: worker.base_images,
    maxMemoryGb: worker.max_memory_gb,
    maxCpu: worker.max_cpu,
    maxCostUsd: worker.max_cost_usd ?? undefined,
    maxTimeoutSeconds: worker.max_timeout === null ? undefined : durationSeconds(worker.max_timeout),
    repositories: worker.repositories.map((repository, index) => path(repository, `repositories[${index}]`)),
    shareEnv: worker.share_env,
    remotes: worker.remotes,
    teamCredentials,
    requeueLost: worker.requeue_lost,
    labels: worker.labels,
  };
  const machine: MachineSettings = {
    containerEngine: config.get('container_engine'),
    baseImage: config.get('base_image'),
    redisUrl: config.get('redis.url') ?? undefined,
    remoteUrl: config.get('remote.url') ?? undefined,
    server: {
      workers: config.get('server.workers'),
      autoCleanAgeDays: config.get('server.auto_clean_age_days'),
      startIntervalMs: parseDuration(config.get('server.start_interval')) ?? 0,
    },
    proxy: { idleTimeoutMs: parseDuration(config.get('proxy.idle_timeout')) ?? 0 },
    dashboard: dashboardSettings(config.get('dashboard'), file, home),
    agentApi: {
      anthropic: config.get('agent_api.anthropic'),
      anthropicOAuth: config.get('agent_api.anthropic_oauth'),
      openai: config.get('agent_api.openai'),
      chatgpt: config.get('agent_api.chatgpt'),
      openaiOAuth: config.get('agent_api.openai_oauth'),
    },
    worker: policy,
  };
  const tables = [defaults, ...projects.values()].filter((table): table is ValidatedTable => table !== undefined);
  return {
    machine,
    defaults,
    projects,
    trustedRepositories: config.get('trusted_repositories'),
    warnings: [...warnings, ...tables.flatMap((table) => table.warnings)],
  };
}

function dashboardSettings(table: UserTable['dashboard'], file: string, home: string): DashboardSettings {
  const path = (value: string, key: string): string => absolutePath(value, file, home, `dashboard.${key}`);
  return {
    host: table.host,
    port: table.port,
    tokenFile: table.token_file === null ? undefined : path(table.token_file, 'token_file'),
    hosts: table.hosts.map((host) => host.toLowerCase()),
    repositories: Object.fromEntries(Object.entries(table.repositories).map(([name, repository]) => [name, path(repository, `repositories.${name}`)])),
  };
}

/** A path of the user file: `~` expanded; anything else must be absolute (a worker's cwd means nothing). */
function absolutePath(value: string, file: string, home: string, key: string): string {
  const expanded = expandHome(value, home);
  if (!isAbsolute(expanded)) throw new ConfigError(`${file}: ${key}: expected an absolute path (or ~/...), got "${value}"`);
  return normalize(expanded).replace(/(.)\/$/, '$1');
}
