import type { MachineConfig, WorkerPolicy } from './resolved-config.js';
import { ConfigError } from '../errors/index.js';
import { describeValue, isTable } from './describe-value.js';
import { SHARED_KEYS, userSchema } from './schema.js';
import { validateSharedTable, type ValidatedTable } from './shared-table.js';
import { checkEnvironment, checkTable, loadTable } from './validate-table.js';

/** Machine settings from the user file and the environment (directories are added by the loader). */
export type MachineSettings = Omit<MachineConfig, 'dataDir' | 'configDir' | 'runtimeDir'> & { baseImage: string };

/** The user file, fully validated: machine settings, `[defaults]` and every `[project.<name>]`. */
export interface UserFile {
  machine: MachineSettings;
  defaults: ValidatedTable | undefined;
  /** Keyed by the table name as written in the file. */
  projects: Map<string, ValidatedTable>;
  /** `trusted_repositories` as written (absolute or `~` paths, not yet expanded or resolved). */
  trustedRepositories: string[];
}

function misplacedAtTop(key: string): string | undefined {
  return SHARED_KEYS.includes(key) ? `${key} is a shared key; set it under [defaults] or [project.<name>]` : undefined;
}

/**
 * Validates the user file's contents (`{}` when there is no file) and the environment variables that
 * override it, and extracts the machine settings. Every `[project.<name>]` table is validated, not only
 * the current project's, so a mistake is reported where it is made rather than when that project runs.
 */
export function validateUserFile(raw: Record<string, unknown>, file: string, env: NodeJS.ProcessEnv): UserFile {
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
  const policy: WorkerPolicy = {
    allowBindMounts: worker.allow_bind_mounts,
    allowDevices: worker.allow_devices,
    allowPrivileged: worker.allow_privileged,
    allowNoNetworkIsolation: worker.allow_no_network_isolation,
    requeueLost: worker.requeue_lost,
  };
  const machine: MachineSettings = {
    containerEngine: config.get('container_engine'),
    baseImage: config.get('base_image'),
    redisUrl: config.get('redis.url') ?? undefined,
    remoteUrl: config.get('remote.url') ?? undefined,
    server: { workers: config.get('server.workers'), autoCleanAgeDays: config.get('server.auto_clean_age_days') },
    worker: policy,
  };
  return { machine, defaults, projects, trustedRepositories: config.get('trusted_repositories') };
}
