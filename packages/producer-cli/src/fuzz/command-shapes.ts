import { readdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ConfigKeyShape, CommandShape, FlagShape } from './fuzz-cases.js';

/** The built commands, as `bin/run.js` loads them. */
const COMMANDS_DIR = resolve(fileURLToPath(import.meta.url), '../../../dist/commands');

/** What the fuzzer reads of an oclif flag definition (`Flags.*` objects are plain data plus `parse`). */
interface OclifFlag {
  type: 'boolean' | 'option';
  char?: string;
  allowNo?: boolean;
  multiple?: boolean;
  options?: readonly string[];
  exists?: boolean;
  min?: number;
  max?: number;
  parse?: (input: string, context: unknown, options: unknown) => Promise<unknown>;
}

interface OclifCommandClass {
  flags?: Record<string, OclifFlag>;
  baseFlags?: Record<string, OclifFlag>;
  args?: Record<string, { required?: boolean }>;
  strict?: boolean;
  enableJsonFlag?: boolean;
}

async function rejects(parse: NonNullable<OclifFlag['parse']>, input: string, flag: OclifFlag): Promise<boolean> {
  try {
    await parse(input, {}, flag);
    return false;
  } catch {
    return true;
  }
}

/**
 * A flag's kind from its definition: oclif keeps no type name, so the parser is asked — an integer
 * flag refuses "abc", a path flag with `exists` refuses a file (directory) or a directory (file).
 */
async function flagShape(name: string, flag: OclifFlag): Promise<FlagShape> {
  const common = { name, char: flag.char, allowNo: flag.allowNo, multiple: flag.multiple, options: flag.options, min: flag.min, max: flag.max };
  if (flag.type === 'boolean') return { ...common, kind: 'boolean' };
  if (flag.options?.length) return { ...common, kind: 'enum' };
  const parse = flag.parse;
  if (parse && flag.exists) return { ...common, kind: (await rejects(parse, '/', flag)) ? 'file' : 'directory' };
  if (parse && (await rejects(parse, 'abc', flag)) && !(await rejects(parse, String(Math.max(flag.min ?? 1, 1)), flag))) return { ...common, kind: 'integer' };
  return { ...common, kind: 'string' };
}

function commandFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return commandFiles(path);
    return entry.name.endsWith('.js') && !entry.name.includes('.test.') ? [path] : [];
  });
}

/** Every command of the built CLI with its flags and arguments, derived from the classes themselves. */
export async function loadCommandShapes(dir: string = COMMANDS_DIR): Promise<CommandShape[]> {
  const shapes: CommandShape[] = [];
  for (const file of commandFiles(dir).sort()) {
    const id = relative(dir, file).replace(/\.js$/, '').split('/').join(':');
    const module = (await import(pathToFileURL(file).href)) as { default?: OclifCommandClass };
    const command = module.default;
    if (!command) continue;
    const flags: FlagShape[] = [];
    for (const [name, flag] of Object.entries({ ...command.baseFlags, ...command.flags })) flags.push(await flagShape(name, flag));
    const args = Object.entries(command.args ?? {}).map(([name, arg]) => ({ name, required: arg.required === true }));
    shapes.push({ id, flags, args, strict: command.strict !== false });
  }
  return shapes;
}

/** A convict schema leaf: it has a `format` or a `default`. */
function isLeaf(node: unknown): node is { format?: unknown; default?: unknown; env?: string } {
  return typeof node === 'object' && node !== null && ('default' in node || 'format' in node);
}

function kindOf(value: unknown): ConfigKeyShape['defaultKind'] {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'object') return 'table';
  if (typeof value === 'number') return 'number';
  if (typeof value === 'boolean') return 'boolean';
  return 'string';
}

function formatName(format: unknown): string {
  if (typeof format === 'function') return format.name;
  return String(format);
}

/** Every key of a convict schema, nested tables walked, with its default's kind, format and env. */
export function configKeyShapes(schema: object, path: readonly string[] = []): ConfigKeyShape[] {
  return Object.entries(schema).flatMap(([key, node]): ConfigKeyShape[] => {
    if (isLeaf(node)) return [{ path: [...path, key], defaultKind: kindOf(node.default), format: formatName(node.format), env: node.env }];
    return typeof node === 'object' && node !== null ? configKeyShapes(node, [...path, key]) : [];
  });
}

/** node `parseArgs` options, as `tsk-worker` declares them. */
type ParseArgsOptions = Record<string, { type: 'string' | 'boolean'; short?: string }>;

/**
 * `tsk-worker`'s options as a command shape. A string option is an integer when the worker's own
 * parser refuses "abc" for it; `--no-<x>` options are booleans of their own, not negations.
 */
export function workerShape(options: ParseArgsOptions, parse: (argv: string[]) => unknown): CommandShape {
  const refuses = (argv: string[]) => {
    try {
      parse(argv);
      return false;
    } catch {
      return true;
    }
  };
  const flags = Object.entries(options).map(([name, option]): FlagShape => {
    if (option.type === 'boolean') return { name, char: option.short, kind: 'boolean', allowNo: false };
    return { name, char: option.short, kind: refuses([`--${name}=abc`]) ? 'integer' : 'string' };
  });
  return { id: 'tsk-worker', bin: 'tsk-worker', flags, args: [], strict: true };
}
