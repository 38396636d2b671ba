import { ConfigError } from '../errors/index.js';
import { describeValue, isTable } from './describe-value.js';
import { boolean } from './formats.js';
import { sharedSchema, userSchema } from './schema.js';
import { unknownKeyDetail } from './suggest.js';
import { checkTable, type TableLocation } from './validate-table.js';

/**
 * TSK users bring their `tsk.toml`. Its keys that tsk has under another name are read as tsk's, each with
 * one warning saying what to write instead; its keys tsk has no equivalent for are dropped, each with one
 * line saying so, instead of failing the whole file. Everything else (typos included) is left for the
 * strict validation, which refuses it as before.
 */

/** One line for the user about their configuration: `<file>: <key>: <what tsk did, what to write instead>`. */
export type ConfigWarning = string;

/** A table with TSK's keys read as tsk's, what to tell the user, and which of its keys were renamed. */
export interface TranslatedTable {
  raw: Record<string, unknown>;
  warnings: ConfigWarning[];
  /** tsk's key → the TSK key the file wrote, for messages about the value. */
  renamed: Record<string, string>;
}

/** Current TSK names of shared keys (in `[defaults]`, `[project.<name>]`, `.tsk/tsk.toml`). */
const SHARED_RENAMES: Record<string, string> = {
  memory_limit_gb: 'memory_gb',
  cpu_limit: 'cpu',
  host_services: 'host_ports',
};

/** TSK's shared keys tsk has no equivalent for, and why. */
const UNSUPPORTED_SHARED: Record<string, string> = {
  dind: 'TSK’s Docker-in-Docker is not supported: a sandbox never gets a Docker engine',
  privileged: 'privileged sandboxes are not supported: every sandbox drops its capabilities and runs with no-new-privileges',
  sudo: 'sudo in the sandbox is not supported: the agent never becomes root (image layers run as root while the image is built)',
};

/** Where a key of TSK's old top-level sections goes: a shared key under `[defaults]`, or unsupported. */
type OldKey = { to: string } | { unsupported: string };

/** TSK's old format: `[docker]`, `[proxy]` and `[git_town]` at the top of the user file. */
const OLD_SECTIONS: Record<string, Record<string, OldKey>> = {
  docker: {
    memory_limit_gb: { to: 'memory_gb' },
    cpu_limit: { to: 'cpu' },
    cpu_quota: { to: 'cpu' },
    dind: { unsupported: UNSUPPORTED_SHARED.dind! },
  },
  proxy: { host_services: { to: 'host_ports' } },
  git_town: { enabled: { to: 'git_town' } },
};

const PODMAN = 'podman is not supported: tsk runs its sandboxes on Docker only';

/** A value as the user would write it in TOML (scalars and lists of scalars); longer values are described. */
function tomlText(value: unknown): string {
  if (Array.isArray(value) && value.length <= 8 && value.every((item) => typeof item !== 'object')) {
    return `[${value.map(tomlText).join(', ')}]`;
  }
  return describeValue(value);
}

/** Checks `value` against tsk's key's format while naming the TSK key the user wrote. */
function checkAs(schema: object, key: string, oldKey: string, value: unknown, where: TableLocation): void {
  const node = (schema as Record<string, unknown>)[key];
  checkTable({ [oldKey]: node }, { [oldKey]: value }, where);
}

/**
 * Reads TSK's names in one shared table: renamed keys become tsk's (in place, so file order is kept),
 * unsupported ones are dropped. A table that sets both a TSK name and tsk's is refused: which one was
 * meant is the user's to say.
 */
export function translateSharedTable(raw: Record<string, unknown>, where: TableLocation): TranslatedTable {
  const translated: Record<string, unknown> = {};
  const warnings: ConfigWarning[] = [];
  const renamed: Record<string, string> = {};
  for (const [key, value] of Object.entries(raw)) {
    const path = where.prefix + key;
    const newKey = Object.hasOwn(SHARED_RENAMES, key) ? SHARED_RENAMES[key] : undefined;
    if (newKey !== undefined) {
      if (Object.hasOwn(raw, newKey)) {
        throw new ConfigError(`${where.file}: ${path}: set ${newKey} or ${key} (TSK’s name for it), not both`);
      }
      checkAs(sharedSchema, newKey, key, value, where);
      translated[newKey] = value;
      renamed[newKey] = key;
      warnings.push(`${where.file}: ${path}: TSK’s name for ${newKey}, read as ${where.prefix}${newKey} = ${tomlText(value)}; write ${newKey} instead`);
    } else if (Object.hasOwn(UNSUPPORTED_SHARED, key)) {
      warnings.push(`${where.file}: ${path}: ${UNSUPPORTED_SHARED[key]}; ignored`);
    } else {
      translated[key] = value;
    }
  }
  return { raw: translated, warnings, renamed };
}

/** `[server] auto_clean_enabled`: tsk cleans while `auto_clean_age_days` is above 0. */
function translateServer(server: Record<string, unknown>, file: string, warnings: ConfigWarning[]): Record<string, unknown> {
  if (!Object.hasOwn(server, 'auto_clean_enabled')) return server;
  const { auto_clean_enabled: enabled, ...rest } = server;
  const where = { file, prefix: 'server.' };
  checkTable({ auto_clean_enabled: { format: boolean, default: true } }, { auto_clean_enabled: enabled }, where);
  if (enabled === true) {
    warnings.push(`${file}: server.auto_clean_enabled: tsk cleans finished tasks while auto_clean_age_days is above 0 (default 7); remove this line`);
    return rest;
  }
  if (Object.hasOwn(server, 'auto_clean_age_days')) {
    throw new ConfigError(`${file}: server.auto_clean_enabled: set auto_clean_age_days = 0 to stop cleaning, instead of auto_clean_enabled = false`);
  }
  warnings.push(`${file}: server.auto_clean_enabled: TSK key, read as server.auto_clean_age_days = 0; write auto_clean_age_days = 0 instead`);
  return { ...rest, auto_clean_age_days: 0 };
}

/**
 * Reads the TSK keys at the top level of the user file: the old `[docker]`, `[proxy]` and `[git_town]`
 * sections (their keys move to `[defaults]`), `container_engine = "podman"` and `[server]
 * auto_clean_enabled`. An unknown key inside an old section is refused like any unknown key.
 */
export function translateUserFile(raw: Record<string, unknown>, file: string): TranslatedTable {
  const warnings: ConfigWarning[] = [];
  const out: Record<string, unknown> = {};
  const moved: { key: string; value: unknown; from: string }[] = [];
  for (const [key, value] of Object.entries(raw)) {
    const section = Object.hasOwn(OLD_SECTIONS, key) && isTable(value) ? OLD_SECTIONS[key] : undefined;
    if (section) {
      // tsk has a `[proxy]` table of its own: its keys stay where they are, TSK's move.
      const ownTable = (userSchema as unknown as Record<string, unknown>)[key];
      const ownKeys = isTable(ownTable) ? Object.keys(ownTable) : [];
      const kept: Record<string, unknown> = {};
      for (const [subKey, subValue] of Object.entries(value as Record<string, unknown>)) {
        const path = `${key}.${subKey}`;
        const target = Object.hasOwn(section, subKey) ? section[subKey] : undefined;
        if (ownKeys.includes(subKey)) {
          kept[subKey] = subValue;
        } else if (key === 'docker' && subKey === 'container_engine') {
          if (subValue === 'podman') warnings.push(`${file}: ${path}: ${PODMAN}; ignored`);
          else {
            checkAs(userSchema, 'container_engine', subKey, subValue, { file, prefix: `${key}.` });
            warnings.push(`${file}: ${path}: TSK’s old key; docker is tsk’s only engine, remove this line`);
          }
        } else if (target === undefined) {
          const valid = [...Object.keys(section), ...ownKeys, ...(key === 'docker' ? ['container_engine'] : [])];
          throw new ConfigError(`${file}: ${path}: ${unknownKeyDetail(subKey, valid)} (in TSK’s old [${key}] section)`);
        } else if ('unsupported' in target) {
          warnings.push(`${file}: ${path}: ${target.unsupported}; ignored`);
        } else {
          checkAs(sharedSchema, target.to, subKey, subValue, { file, prefix: `${key}.` });
          moved.push({ key: target.to, value: subValue, from: path });
          warnings.push(`${file}: ${path}: TSK’s old key, read as defaults.${target.to} = ${tomlText(subValue)}; write ${target.to} under [defaults] instead`);
        }
      }
      if (Object.keys(kept).length > 0) out[key] = kept;
    } else if (key === 'container_engine' && value === 'podman') {
      warnings.push(`${file}: container_engine: ${PODMAN}; ignored`);
    } else if (key === 'server' && isTable(value)) {
      out[key] = translateServer(value, file, warnings);
    } else {
      out[key] = value;
    }
  }
  if (moved.length > 0 && (out.defaults === undefined || isTable(out.defaults))) {
    const defaults: Record<string, unknown> = { ...((out.defaults as Record<string, unknown> | undefined) ?? {}) };
    const from: Record<string, string> = {};
    for (const { key, value, from: path } of moved) {
      const aliases = [key, ...Object.keys(SHARED_RENAMES).filter((name) => SHARED_RENAMES[name] === key)];
      const clash = from[key] ?? aliases.map((alias) => `defaults.${alias}`).find((alias) => Object.hasOwn(defaults, alias.slice('defaults.'.length)));
      if (clash !== undefined) throw new ConfigError(`${file}: ${path}: ${clash} sets ${key} too; keep one`);
      defaults[key] = value;
      from[key] = path;
    }
    out.defaults = defaults;
  }
  return { raw: out, warnings, renamed: {} };
}
