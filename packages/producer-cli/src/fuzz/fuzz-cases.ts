/**
 * Input fuzzing, the pure half: from the shapes of tsk's commands (their oclif `flags`/`args`) and of its
 * configuration (the convict schemas), the malformed inputs a user, a script or a hostile repository
 * could hand it. Each case must be refused with one `Error:` line, exit code 1, no stack trace and
 * nothing written; `fuzz-cli.int.test.ts` runs them against the built CLI. No I/O here: the same shapes
 * and seed give the same cases.
 */
import { seededRandom } from '@tsk/engine/core';

/** What the fuzzer needs to know of one flag (read from the command class by `command-shapes.ts`). */
export interface FlagShape {
  name: string;
  char?: string;
  /** `integer`: oclif's integer parser; `directory`/`file`: a path oclif checks exists. */
  kind: 'boolean' | 'integer' | 'directory' | 'file' | 'enum' | 'string';
  allowNo?: boolean;
  multiple?: boolean;
  options?: readonly string[];
  min?: number;
  max?: number;
}

export interface CommandShape {
  /** oclif id, `docker:build`; `tsk-worker` for the worker's binary. */
  id: string;
  /** Which binary runs it (default `tsk`). */
  bin?: FuzzBin;
  flags: readonly FlagShape[];
  args: readonly { name: string; required: boolean }[];
  /** oclif's `strict`: extra arguments are refused. */
  strict: boolean;
}

/** One leaf of a convict schema: where it sits, the type of its default, its format's name, its env. */
export interface ConfigKeyShape {
  path: readonly string[];
  defaultKind: 'string' | 'number' | 'boolean' | 'array' | 'table' | 'null';
  format: string;
  env?: string;
}

/** A file a case writes before it runs: `home` is the case's config dir (tsk/…), `repo` its repository. */
export interface CaseFile {
  root: 'config' | 'repo';
  path: string;
  text: string;
}

export type FuzzBin = 'tsk' | 'tsk-worker';

export interface FuzzCase {
  /** Stable and readable: what failed is named by it. */
  id: string;
  /** Default `tsk`. */
  bin?: FuzzBin;
  argv: readonly string[];
  env?: Readonly<Record<string, string>>;
  files?: readonly CaseFile[];
  /**
   * Input tsk takes by design (the rule is named here): the case must then go on to the missing Docker
   * engine, and still fail cleanly and leave nothing behind.
   */
  acceptedBecause?: string;
}

/** Options every task-creating command gets, so the fuzzed input is the only thing wrong. */
const TASK_BASE = ['-p', 'fuzz prompt', '--agent', 'no-op'];
/** A well-formed task id (8 characters of the id alphabet) no queue holds. */
const TASK_ID = 'AbC12345';
/** A path no machine has. */
const MISSING_PATH = '/nonexistent/tsk-fuzz/missing';

/** Values no free-form flag of tsk should take: each stands for a family of malformed input. */
export const HOSTILE_STRINGS: readonly { label: string; value: string }[] = [
  { label: 'empty', value: '' },
  { label: 'blank', value: '   ' },
  { label: 'control', value: 'bad\u001b[31mvalue\u0007' },
  { label: 'newline', value: 'two\nlines' },
  { label: 'huge', value: 'x'.repeat(100_000) },
  { label: 'option-injection', value: '--upload-pack=touch /tmp/tsk-fuzz-pwned' },
  { label: 'path-outside', value: '../../../../../../etc/passwd' },
];

/** Flags whose value is free text by design (what the agent reads): any string is a prompt. */
const FREE_TEXT_FLAGS = new Set(['prompt', 'description']);

/**
 * Hostile values a flag takes by design, each with the documented rule that makes it harmless. Only
 * these are left out; everything else a flag is given here must be refused.
 */
const ACCEPTED_BY_DESIGN: Record<string, { labels: readonly string[]; taskCommandsOnly?: boolean }> = {
  // README: a task's name and the project name are "lowercased with anything but [a-z0-9._-] turned into -"
  // (a blank --project falls back to the directory name); only control characters and length are refused.
  name: { labels: ['option-injection', 'path-outside'], taskCommandsOnly: true },
  project: { labels: ['empty', 'blank', 'control', 'newline', 'option-injection', 'path-outside'] },
  // worker-labels.ts: "comma lists split, blanks dropped" (`--requires ""` asks for no label).
  requires: { labels: ['empty', 'blank'] },
  // The user's own file, wherever it is: any readable path is a prompt file.
  'prompt-file': { labels: ['path-outside'] },
};

function acceptedByDesign(command: CommandShape, flag: FlagShape, label: string): boolean {
  const rule = ACCEPTED_BY_DESIGN[flag.name];
  if (rule === undefined || !rule.labels.includes(label)) return false;
  return !rule.taskCommandsOnly || command.flags.some((other) => other.name === 'prompt');
}

/** The id words of a command (`docker:build` → `docker build`). */
function commandWords(command: CommandShape): string[] {
  return command.bin === 'tsk-worker' ? [] : command.id.split(':');
}

/** Arguments that make `command` well-formed apart from the fuzzed part. */
function baseArgv(command: CommandShape, omit: { flag?: string; args?: boolean } = {}): string[] {
  const argv = commandWords(command);
  if (!omit.args) for (const arg of command.args) if (arg.required) argv.push(arg.name === 'name' ? 'generic' : TASK_ID);
  if (command.flags.some((flag) => flag.name === 'prompt') && omit.flag !== 'prompt' && omit.flag !== 'description' && omit.flag !== 'prompt-file') {
    argv.push(...TASK_BASE.slice(0, 2));
  }
  if (command.flags.some((flag) => flag.name === 'agent') && omit.flag !== 'agent') argv.push(...TASK_BASE.slice(2));
  return argv;
}

function flagCases(command: CommandShape, flag: FlagShape): FuzzCase[] {
  const base = baseArgv(command, { flag: flag.name });
  const id = (what: string) => `${command.id} --${flag.name} ${what}`;
  const withValue = (what: string, value: string): FuzzCase => ({ id: id(what), argv: [...base, `--${flag.name}=${value}`] });
  const cases: FuzzCase[] = [];
  if (flag.kind === 'boolean') {
    cases.push({ id: id('given a value'), argv: [...base, `--${flag.name}=yes`] });
    if (!flag.allowNo) cases.push({ id: id('negated'), argv: [...base, `--no-${flag.name}`] });
    return cases;
  }
  // The value is missing: the flag is the last word.
  cases.push({ id: id('without a value'), argv: [...base, `--${flag.name}`] });
  if (flag.char) cases.push({ id: `${command.id} -${flag.char} without a value`, argv: [...base, `-${flag.char}`] });
  switch (flag.kind) {
    case 'integer': {
      for (const value of ['abc', 'NaN', 'Infinity', '1.5', '1e999', '99999999999999999999', '-5', '0x10']) cases.push(withValue(value, value));
      if (flag.min !== undefined && flag.min > 0) cases.push(withValue('below its minimum', String(flag.min - 1)));
      if (flag.max !== undefined) cases.push(withValue('above its maximum', String(flag.max + 1)));
      break;
    }
    case 'directory':
    case 'file':
      cases.push(withValue('missing path', MISSING_PATH));
      cases.push(withValue('path outside', '../../../../../../nonexistent-tsk-fuzz'));
      cases.push(withValue(flag.kind === 'directory' ? 'a file' : 'a directory', flag.kind === 'directory' ? '/etc/hostname' : '/'));
      break;
    case 'enum':
      cases.push(withValue('not an option', 'not-an-option'));
      break;
    case 'string':
      if (FREE_TEXT_FLAGS.has(flag.name)) break;
      for (const hostile of HOSTILE_STRINGS) if (!acceptedByDesign(command, flag, hostile.label)) cases.push(withValue(hostile.label, hostile.value));
      break;
  }
  return cases;
}

/** Every malformed invocation of one command. */
export function commandCases(command: CommandShape): FuzzCase[] {
  const words = commandWords(command);
  const cases: FuzzCase[] = [
    { id: `${command.id} unknown flag`, argv: [...baseArgv(command), '--zz-no-such-flag'] },
    { id: `${command.id} unknown short flag`, argv: [...baseArgv(command), '-Z'] },
    { id: `${command.id} -- then an option`, argv: [...baseArgv(command), '--', '--upload-pack=touch /tmp/tsk-fuzz-pwned'] },
  ];
  if (command.strict) cases.push({ id: `${command.id} extra argument`, argv: [...baseArgv(command), 'extra-argument'] });
  if (command.args.some((arg) => arg.required)) cases.push({ id: `${command.id} missing argument`, argv: [...words, ...baseArgv(command, { args: true }).slice(words.length)] });
  for (const arg of command.args) {
    if (arg.name !== 'name' && !arg.name.startsWith('id')) continue;
    // A task id or template name is joined into paths and Redis keys: nothing but its alphabet may pass.
    for (const hostile of HOSTILE_STRINGS.filter((h) => h.label !== 'empty' && h.label !== 'blank' && h.label !== 'option-injection')) {
      cases.push({ id: `${command.id} <${arg.name}> ${hostile.label}`, argv: [...words, hostile.value, ...baseArgv(command, { args: true }).slice(words.length)] });
    }
  }
  for (const flag of command.flags) if (flag.name !== 'debug' && flag.name !== 'json' && flag.name !== 'help') cases.push(...flagCases(command, flag));
  return command.bin === undefined ? cases : cases.map((fuzzCase) => ({ ...fuzzCase, bin: command.bin }));
}

/** A TOML value of a type the key does not take (or out of its range). */
function wrongValues(key: ConfigKeyShape): { label: string; toml: string }[] {
  switch (key.defaultKind) {
    case 'boolean':
      return [{ label: 'a string', toml: '"yes"' }, { label: 'a number', toml: '1' }];
    case 'number':
      return [
        { label: 'a string', toml: '"twelve"' },
        { label: 'negative', toml: '-1' },
        { label: 'nan', toml: 'nan' },
        { label: 'inf', toml: 'inf' },
        { label: 'a table', toml: '{ a = 1 }' },
      ];
    case 'array':
      return [{ label: 'a string', toml: '"x"' }, { label: 'a list of tables', toml: '[{}]' }, { label: 'a number', toml: '7' }];
    case 'table':
      return [{ label: 'a string', toml: '"x"' }, { label: 'a number', toml: '7' }];
    case 'string':
    case 'null':
      // Number formats default to null too: a string is wrong for them, a number for the rest.
      return /Number|Integer/.test(key.format) ? [{ label: 'a string', toml: '"twelve"' }, { label: 'negative', toml: '-1' }] : [{ label: 'a number', toml: '42' }, { label: 'a table', toml: '{ a = 1 }' }, { label: 'a list', toml: '[1, 2]' }];
  }
}

/** `key = value` placed in its table: `[worker]\nmax_cpu = -1`. */
function tomlAt(table: readonly string[], path: readonly string[], toml: string): string {
  const header = [...table, ...path.slice(0, -1)];
  const line = `${path[path.length - 1]} = ${toml}\n`;
  return header.length === 0 ? line : `[${header.join('.')}]\n${line}`;
}

/** The `tsk run` every configuration case runs: it reads every level (user file, project file, env). */
const CONFIG_ARGV = ['run', ...TASK_BASE];

/**
 * Every key of the user file (`userSchema`) and of a shared table (`sharedSchema`: in `[defaults]`,
 * `[project.<name>]` and the repository's `.tsk/tsk.toml`) with wrong types and values, each key's
 * environment variable with a value its format refuses, unknown keys and broken TOML.
 */
export function configCases(userKeys: readonly ConfigKeyShape[], sharedKeys: readonly ConfigKeyShape[], project: string): FuzzCase[] {
  const cases: FuzzCase[] = [];
  const userFile = (text: string): CaseFile[] => [{ root: 'config', path: 'tsk/tsk.toml', text }];
  const projectFile = (text: string): CaseFile[] => [{ root: 'repo', path: '.tsk/tsk.toml', text }];
  for (const key of userKeys) {
    const name = key.path.join('.');
    for (const wrong of wrongValues(key)) cases.push({ id: `user tsk.toml ${name} = ${wrong.label}`, argv: CONFIG_ARGV, files: userFile(tomlAt([], key.path, wrong.toml)) });
    if (key.env) {
      cases.push({ id: `${key.env} blank`, argv: CONFIG_ARGV, env: { [key.env]: '   ' } });
      if (/Url/.test(key.format)) cases.push({ id: `${key.env} not a URL`, argv: CONFIG_ARGV, env: { [key.env]: 'not a url\u0007' } });
    }
  }
  for (const key of sharedKeys) {
    const name = key.path.join('.');
    for (const wrong of wrongValues(key)) {
      cases.push({ id: `user tsk.toml [defaults] ${name} = ${wrong.label}`, argv: CONFIG_ARGV, files: userFile(tomlAt(['defaults'], key.path, wrong.toml)) });
      cases.push({ id: `user tsk.toml [project] ${name} = ${wrong.label}`, argv: CONFIG_ARGV, files: userFile(tomlAt(['project', project], key.path, wrong.toml)) });
      cases.push({ id: `.tsk/tsk.toml ${name} = ${wrong.label}`, argv: CONFIG_ARGV, files: projectFile(tomlAt([], key.path, wrong.toml)) });
    }
  }
  const brokenToml: { label: string; text: string }[] = [
    { label: 'a value missing', text: 'agent =\n' },
    { label: 'an unclosed table header', text: '[defaults\nagent = "no-op"\n' },
    { label: 'a key set twice', text: '[defaults]\ncpu = 1\ncpu = 2\n' },
    { label: 'an unterminated string', text: '[defaults]\nsetup = "RUN true\n' },
    { label: 'binary garbage', text: '\u0000\u0001\u00ff\u00fe' },
  ];
  for (const broken of brokenToml) {
    cases.push({ id: `user tsk.toml with ${broken.label}`, argv: CONFIG_ARGV, files: userFile(broken.text) });
    cases.push({ id: `.tsk/tsk.toml with ${broken.label}`, argv: CONFIG_ARGV, files: projectFile(broken.text) });
  }
  cases.push({ id: 'user tsk.toml unknown key', argv: CONFIG_ARGV, files: userFile('no_such_key = 1\n') });
  cases.push({ id: 'user tsk.toml [defaults] unknown key', argv: CONFIG_ARGV, files: userFile('[defaults]\nno_such_key = 1\n') });
  cases.push({ id: 'user tsk.toml [worker] unknown key', argv: CONFIG_ARGV, files: userFile('[worker]\nno_such_key = 1\n') });
  cases.push({ id: '.tsk/tsk.toml unknown key', argv: CONFIG_ARGV, files: projectFile('no_such_key = 1\n') });
  return cases;
}

/** Templates a repository could carry: broken handlebars, broken or mistyped frontmatter. */
export function templateCases(): FuzzCase[] {
  const templates: { label: string; text: string; acceptedBecause?: string }[] = [
    { label: 'an unclosed block', text: '{{#if PROMPT}}\nDo {{PROMPT}}\n' },
    { label: 'an unclosed mustache', text: 'Do {{PROMPT\n' },
    { label: 'a missing partial', text: '{{> no-such-partial}}\n{{PROMPT}}\n' },
    { label: 'a mismatched block', text: '{{#if PROMPT}}{{/each}}\n' },
    { label: 'an unknown helper block', text: '{{#nohelper PROMPT}}x{{/nohelper}}\n' },
    // templates/frontmatter.ts reads only `key: value` lines and evaluates no YAML; an unclosed block is body text.
    ...['unterminated frontmatter', 'frontmatter that is not YAML', 'frontmatter that is a list', 'frontmatter with a YAML tag'].map((label, index) => ({
      label,
      text: ['---\ndescription: x\n{{PROMPT}}\n', '---\ndescription: [unclosed\n---\n{{PROMPT}}\n', '---\n- a\n- b\n---\n{{PROMPT}}\n', '---\ndescription: !!js/function "function () {}"\n---\n{{PROMPT}}\n'][index]!,
      acceptedBecause: 'frontmatter is only key: value lines, never YAML evaluated (frontmatter.ts)',
    })),
  ];
  return templates.map((template) => ({
    id: `template with ${template.label}`,
    argv: ['run', '-t', 'fuzzbroken', ...TASK_BASE],
    files: [{ root: 'repo', path: '.tsk/templates/fuzzbroken.md', text: template.text }],
    ...(template.acceptedBecause === undefined ? {} : { acceptedBecause: template.acceptedBecause }),
  }));
}

/**
 * `count` of `cases`, a seeded sample spread over all of them (every case when `count` covers them).
 * The sample keeps the cases' order so a run reads like the list.
 */
export function sampleCases(cases: readonly FuzzCase[], count: number, seed: number): FuzzCase[] {
  if (count >= cases.length) return [...cases];
  const random = seededRandom(seed);
  const picked = new Set<number>();
  while (picked.size < count) picked.add(Math.floor(random() * cases.length));
  return [...picked].sort((a, b) => a - b).map((index) => cases[index]!);
}
