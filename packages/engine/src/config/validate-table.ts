import convict from 'convict';
import { ConfigError } from '../errors/index.js';
import { describeValue, isTable } from './describe-value.js';
import { FormatViolation } from './formats.js';
import { unknownKeyDetail } from './suggest.js';

/** Where a table sits, for messages: its file and the key path leading to it (`''`, `project.foo.`). */
export interface TableLocation {
  file: string;
  prefix: string;
}

/** Returns a better message than "unknown key" for a key that is misplaced rather than misspelt. */
export type MisplacedKeyHint = (key: string) => string | undefined;

type SchemaNode = Record<string, unknown>;

function isLeaf(node: unknown): node is SchemaNode {
  return isTable(node) && Object.hasOwn(node, 'default');
}

function checkLeaf(node: SchemaNode, value: unknown, path: string, file: string): void {
  if (node.format === Object) {
    if (!isTable(value)) throw new ConfigError(`${file}: ${path}: expected a table, got ${describeValue(value)}`);
    return;
  }
  if (typeof node.format !== 'function') return;
  try {
    node.format(value);
  } catch (error) {
    if (!(error instanceof FormatViolation)) throw error;
    throw new ConfigError(`${file}: ${path}${error.subPath}: ${error.message}`);
  }
}

/**
 * Checks a raw TOML table against a convict schema before convict sees it: every key must be declared,
 * groups must be tables, and every value must pass its format as written. Doing this first gives
 * messages with the full key path and the value as the user typed it, and keeps convict from coercing
 * strings (it would read `git_town = "no"` as true).
 */
export function checkTable(
  schema: object,
  raw: Record<string, unknown>,
  where: TableLocation,
  misplaced?: MisplacedKeyHint,
): void {
  const valid = Object.keys(schema);
  for (const [key, value] of Object.entries(raw)) {
    const path = where.prefix + key;
    const node: unknown = Object.hasOwn(schema, key) ? (schema as SchemaNode)[key] : undefined;
    if (node === undefined) {
      throw new ConfigError(`${where.file}: ${path}: ${misplaced?.(key) ?? unknownKeyDetail(key, valid)}`);
    }
    if (isLeaf(node)) {
      checkLeaf(node, value, path, where.file);
    } else if (!isTable(value)) {
      throw new ConfigError(`${where.file}: ${path}: expected a table, got ${describeValue(value)}`);
    } else if (isTable(node)) {
      checkTable(node, value, { file: where.file, prefix: `${path}.` });
    }
  }
}

/** Environment variables a schema reads, each with the key it sets. */
function envBindings(schema: object, prefix = ''): { variable: string; node: SchemaNode; key: string }[] {
  return Object.entries(schema).flatMap(([key, node]: [string, unknown]) => {
    if (!isTable(node)) return [];
    if (!isLeaf(node)) return envBindings(node, `${prefix}${key}.`);
    return typeof node.env === 'string' ? [{ variable: node.env, node, key: prefix + key }] : [];
  });
}

/**
 * The schema's environment variables that are set and non-empty, each checked against its key's
 * format. An empty variable counts as unset, as shells make it easy to export one by accident.
 */
export function checkEnvironment(schema: object, env: NodeJS.ProcessEnv): Record<string, string> {
  const used: Record<string, string> = {};
  for (const { variable, node, key } of envBindings(schema)) {
    const value = env[variable];
    if (value === undefined || value === '') continue;
    checkLeaf(node, value, key, `environment variable ${variable}`);
    used[variable] = value;
  }
  return used;
}

/**
 * Loads an already checked table into convict (defaults below it, `env` above it) and validates it
 * strictly. After {@link checkTable} this cannot fail on user input; it guards the schema itself.
 */
export function loadTable<T>(
  schema: convict.Schema<T>,
  raw: Record<string, unknown>,
  file: string,
  env: Record<string, string> = {},
): convict.Config<T> {
  // `args: []` stops convict from reading process.argv; `env` stops it from reading process.env.
  const config = convict(schema, { env, args: [] });
  try {
    config.load(raw).validate({ allowed: 'strict' });
  } catch (error) {
    const firstLine = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new ConfigError(`${file}: ${firstLine}`, { cause: error });
  }
  return config;
}
