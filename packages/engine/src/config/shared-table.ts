import { ConfigError } from '../errors/index.js';
import { AGENT_NAMES, isAgentName } from '../model/agent-name.js';
import { describeValue, isTable } from './describe-value.js';
import { stackName } from './formats.js';
import { layerSetupSchema, sharedSchema, SHARED_TABLE_KEYS, USER_ONLY_KEYS, type SharedTable } from './schema.js';
import { unknownKeyDetail } from './suggest.js';
import { translateSharedTable, type ConfigWarning } from './tsk-keys.js';
import { checkTable, loadTable, type TableLocation } from './validate-table.js';

/** A validated shared table: only the keys it sets, with where it came from. */
export interface ValidatedTable extends TableLocation {
  values: Partial<SharedTable>;
  /** TSK keys read as tsk's, or ignored (see `tsk-keys.ts`). */
  warnings: ConfigWarning[];
  /** tsk's key → the TSK name the file used for it, so messages name what the user wrote. */
  renamed: Record<string, string>;
}

function misplacedHint(userFile: string): (key: string) => string | undefined {
  return (key) => {
    if (USER_ONLY_KEYS.includes(key)) return `${key} is a user-only key; set it at the top level of ${userFile}`;
    if ((SHARED_TABLE_KEYS as readonly string[]).includes(key)) return `[${key}] tables belong only at the top level of ${userFile}`;
    return undefined;
  };
}

function checkLayerMap(mapKey: 'stack_config' | 'agent_config', map: Record<string, unknown>, where: TableLocation): void {
  for (const [name, entry] of Object.entries(map)) {
    const path = `${where.prefix}${mapKey}.${name}`;
    if (mapKey === 'agent_config' && !isAgentName(name)) {
      throw new ConfigError(`${where.file}: ${path}: ${unknownKeyDetail(name, AGENT_NAMES, 'agent')}`);
    }
    if (mapKey === 'stack_config') {
      try {
        stackName(name);
      } catch {
        throw new ConfigError(`${where.file}: ${path}: expected a stack name of [a-z0-9._-] characters`);
      }
    }
    if (!isTable(entry)) throw new ConfigError(`${where.file}: ${path}: expected a table, got ${describeValue(entry)}`);
    checkTable(layerSetupSchema, entry, { file: where.file, prefix: `${path}.` });
    loadTable(layerSetupSchema, entry, where.file);
  }
}

/**
 * Validates one shared table (`[defaults]`, `[project.<name>]` or a project's `.tsk/tsk.toml`) completely,
 * throwing a {@link ConfigError} that names the file, the full key path and what was expected.
 *
 * @param userFile - the user file's path, named in hints about user-only keys.
 */
export function validateSharedTable(raw: unknown, where: TableLocation, userFile: string): ValidatedTable {
  if (!isTable(raw)) {
    throw new ConfigError(`${where.file}: ${where.prefix.replace(/\.$/, '')}: expected a table, got ${describeValue(raw)}`);
  }
  const { raw: table, warnings, renamed } = translateSharedTable(raw, where);
  checkTable(sharedSchema, table, where, misplacedHint(userFile));
  for (const mapKey of ['stack_config', 'agent_config'] as const) {
    const map = table[mapKey];
    if (isTable(map)) checkLayerMap(mapKey, map, where);
  }
  if (table.squid_conf !== undefined && table.squid_conf_path !== undefined) {
    throw new ConfigError(`${where.file}: ${where.prefix}squid_conf_path: set squid_conf or squid_conf_path, not both`);
  }
  loadTable(sharedSchema, table, where.file);
  // Safe: checkTable has verified every key and value against the schema this type describes.
  return { ...where, values: table as Partial<SharedTable>, warnings, renamed };
}
