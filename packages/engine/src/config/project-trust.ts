import { realpath } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ConfigError } from '../errors/index.js';
import { describeValue } from './describe-value.js';
import { expandHome } from './layer-from-table.js';
import type { SharedTable } from './schema.js';
import type { ValidatedTable } from './shared-table.js';

/** The entries of one key's value that reach this machine, as `key[i] value`; `false` for a key that cannot. */
type HostReach<K extends keyof SharedTable> = false | ((value: SharedTable[K]) => string[]);

function everyEntry(key: string): (values: readonly (string | number)[]) => string[] {
  return (values) => values.map((value, i) => `${key}[${i}] ${describeValue(value)}`);
}

/**
 * The one rule of which shared keys reach this machine rather than stay inside the sandbox and its image:
 * bind mounts and devices (host files), forwarded host ports (host services), the proxy's rules (what the
 * sandbox may reach at all), CA files (read from the host's disk, then trusted for TLS in the sandbox) and
 * variables taken from the environment of the machine that runs the task.
 * Every shared key is listed, so a new key cannot be added without deciding which side it is on.
 */
const HOST_REACH: { [K in keyof SharedTable]: HostReach<K> } = {
  agent: false,
  stack: false,
  memory_gb: false,
  cpu: false,
  setup: false,
  stack_config: false,
  agent_config: false,
  env: false,
  // Values from the environment of the machine running the task: the user's own secrets.
  env_from_worker: everyEntry('env_from_worker'),
  git_town: false,
  push_branches: false,
  // Snapshots carry the user's files (untracked ones included) to the remote: the user chooses where.
  remote: (url) => (url === null ? [] : [`remote ${describeValue(url)}`]),
  // A named volume is a Docker volume tsk owns (`tsk-` prefixed); only a `host` entry is a bind mount.
  volumes: (volumes) => volumes.flatMap((volume, i) => (volume.host === undefined ? [] : [`volumes[${i}].host ${describeValue(volume.host)}`])),
  devices: everyEntry('devices'),
  host_ports: everyEntry('host_ports'),
  // Not echoed: it is a whole file of text.
  squid_conf: (text) => (text === null ? [] : ['squid_conf']),
  squid_conf_path: (path) => (path === null ? [] : [`squid_conf_path ${describeValue(path)}`]),
  ca_certificates: everyEntry('ca_certificates'),
  // Budgets spend the credential of whoever runs the task: a repository must not raise them.
  max_cost_usd: (value) => (value === null ? [] : [`max_cost_usd ${value}`]),
  timeout: (value) => (value === null ? [] : [`timeout ${describeValue(value)}`]),
  max_turns: (value) => (value === null ? [] : [`max_turns ${value}`]),
  // A dearer model spends more of the credential, like a budget.
  model: (value) => (value === null ? [] : [`model ${describeValue(value)}`]),
};

function reachOf<K extends keyof SharedTable>(key: K, value: SharedTable[K]): string[] {
  const reach = HOST_REACH[key];
  return reach ? reach(value) : [];
}

/** Every entry of a validated table that reaches this machine, e.g. `volumes[0].host "/"`, in file order. */
export function hostReachingEntries(values: Partial<SharedTable>): string[] {
  return (Object.keys(values) as (keyof SharedTable)[]).flatMap((key) => {
    const value = values[key];
    return value === undefined ? [] : reachOf(key, value);
  });
}

/** An entry named by the key the file wrote (TSK's `host_services` rather than `host_ports`). */
function asWritten(entry: string, renamed: Record<string, string>): string {
  const key = /^[a-z_]+/.exec(entry)?.[0] ?? '';
  return Object.hasOwn(renamed, key) ? `${renamed[key]}${entry.slice(key.length)}` : entry;
}

export interface ProjectTrust {
  /** The repository's main work tree: the path `trusted_repositories` must name. */
  repository: string;
  /** `trusted_repositories` as written in the user file. */
  trusted: readonly string[];
  /** The user file, named in the message as the place to opt in. */
  userFile: string;
  home: string;
}

/** Symlinks resolved, so two spellings of one folder compare equal; a path that does not exist stays as given. */
async function realPath(path: string): Promise<string> {
  return realpath(path).catch(() => resolve(path));
}

/**
 * Refuses a repository's own `.tsk/tsk.toml` that sets keys reaching this machine, unless the user listed
 * that repository in `trusted_repositories`. A cloned repository is hostile until its user says otherwise,
 * and it controls its own directory name (so the project name) but not where the user put it: trust goes
 * by real path, never by name. Runs before any file the table names is read.
 *
 * @throws ConfigError naming the file and each offending entry; its hint says what to add to the user file.
 */
export async function checkProjectTrust(table: ValidatedTable, trust: ProjectTrust): Promise<void> {
  const entries = hostReachingEntries(table.values).map((entry) => table.prefix + asWritten(entry, table.renamed));
  if (entries.length === 0) return;
  const repository = await realPath(trust.repository);
  const trusted = await Promise.all(trust.trusted.map((path) => realPath(expandHome(path, trust.home))));
  if (trusted.includes(repository)) return;
  throw new ConfigError(`${table.file}: ${entries.join(', ')}: keys that reach this machine are refused from a repository you have not trusted`, {
    hint: `if you trust it, add ${JSON.stringify(repository)} to trusted_repositories at the top level of ${trust.userFile}`,
  });
}
