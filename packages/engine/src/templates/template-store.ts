import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { assetsRoot } from '../common/assets.js';
import { errorCode } from '../common/error-code.js';
import { realPathInside } from '../common/repository-file.js';
import { TemplateError } from '../errors/index.js';
import { parseFrontmatter } from './frontmatter.js';
import type { TemplateInfo, TemplateLocationOptions, TemplateSource, TemplateText } from './template-info.js';

const TYPE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

interface TemplateDir {
  source: TemplateSource;
  dir: string;
  /** For the repository's own folder: its root, which its templates may not lead out of. */
  repositoryRoot?: string;
}

/** The template folders, highest priority first. */
function templateDirs(options: TemplateLocationOptions): TemplateDir[] {
  return [
    ...(options.repoPath ? [{ source: 'project' as const, dir: join(options.repoPath, '.tsk', 'templates'), repositoryRoot: options.repoPath }] : []),
    { source: 'user', dir: join(options.configDir, 'templates') },
    { source: 'built-in', dir: options.builtInDir ?? join(assetsRoot(), 'templates') },
  ];
}

/**
 * Reads a file, or `undefined` when there is no such file (a directory of that name does not count). A
 * repository's template must stay inside the repository: a link to a file of the user's would make that
 * file the agent's instructions.
 */
async function readIfPresent(path: string, repositoryRoot?: string): Promise<string | undefined> {
  try {
    if (repositoryRoot !== undefined && (await realPathInside(repositoryRoot, path)) === undefined) {
      throw new TemplateError(`Template ${path} leads outside the repository (a symbolic link); tsk reads a repository's templates only from files inside it`);
    }
    return await readFile(path, 'utf8');
  } catch (error) {
    if (error instanceof TemplateError) throw error;
    const code = errorCode(error);
    if (code === 'ENOENT' || code === 'EISDIR' || code === 'ENOTDIR') return undefined;
    throw new TemplateError(`Cannot read template ${path} (${code ?? String(error)})`, { cause: error });
  }
}

/** Names of the `.md` files in a folder; a missing folder has none. */
async function templateNames(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir);
    return entries.filter((entry) => entry.endsWith('.md')).map((entry) => entry.slice(0, -'.md'.length));
  } catch (error) {
    const code = errorCode(error);
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw new TemplateError(`Cannot list templates in ${dir} (${code ?? String(error)})`, { cause: error });
  }
}

/**
 * Every available template once, with the source that wins for its name (project > user > built-in),
 * sorted by name.
 */
export async function listTemplates(options: TemplateLocationOptions): Promise<TemplateInfo[]> {
  const found = new Map<string, TemplateInfo>();
  for (const { source, dir, repositoryRoot } of templateDirs(options)) {
    for (const name of await templateNames(dir)) {
      if (found.has(name) || !TYPE_NAME.test(name)) continue;
      const path = join(dir, `${name}.md`);
      const text = await readIfPresent(path, repositoryRoot);
      if (text === undefined) continue;
      found.set(name, { name, source, path, description: parseFrontmatter(text).description });
    }
  }
  return [...found.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** The winning template for `type`, or `undefined` when no folder has one. */
export async function findTemplate(type: string, options: TemplateLocationOptions): Promise<TemplateText | undefined> {
  // The type becomes a file name: refuse anything that could leave the template folders.
  if (!TYPE_NAME.test(type)) {
    throw new TemplateError(`Invalid template type "${type}": use letters, digits, '.', '_' and '-'`);
  }
  for (const { source, dir, repositoryRoot } of templateDirs(options)) {
    const path = join(dir, `${type}.md`);
    const text = await readIfPresent(path, repositoryRoot);
    if (text === undefined) continue;
    const { description, body } = parseFrontmatter(text);
    return { name: type, source, path, description, text, body };
  }
  return undefined;
}

/** A TemplateError for an unknown type that lists what is available. */
export async function unknownTemplateError(type: string, options: TemplateLocationOptions): Promise<TemplateError> {
  const names = (await listTemplates(options)).map((template) => template.name);
  const available = names.length > 0 ? names.join(', ') : 'none';
  return new TemplateError(`Unknown template type "${type}"; available: ${available} (or generic: the prompt alone)`, {
    hint: 'run `tsk template list` to see where each one comes from',
  });
}

/**
 * The raw text of the template for `type`, from the first folder that has it.
 *
 * @throws TemplateError when no folder has it, listing the available templates.
 */
export async function readTemplate(type: string, options: TemplateLocationOptions): Promise<TemplateText> {
  const template = await findTemplate(type, options);
  if (template) return template;
  if (type === 'generic') {
    throw new TemplateError('generic is not a template file: it passes the prompt to the agent unchanged', {
      hint: `create ${join(options.configDir, 'templates', 'generic.md')} to wrap every generic prompt`,
    });
  }
  throw await unknownTemplateError(type, options);
}
