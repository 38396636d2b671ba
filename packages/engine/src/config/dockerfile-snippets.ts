import { constants } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { errorCode } from '../common/error-code.js';
import { realPathInside } from '../common/repository-file.js';
import { ConfigError } from '../errors/index.js';
import type { AgentName } from '../model/agent-name.js';
import { TASK_LIMITS } from '../model/task-limits.js';
import type { ConfigLayer } from './config-layer.js';

/**
 * TSK's Dockerfile snippets: `dockerfiles/{stack,agent,project}/<name>.dockerfile` in a repository's
 * `.tsk/` folder or the user's configuration folder. Each file found is one configuration level of its
 * own that sets the layer as `stack_config.<stack>.setup`, `agent_config.<agent>.setup` or `setup` would,
 * so it is read now (the task carries its text), counts as an image layer for a worker's policy, and
 * runs as `setup` lines do.
 */

/** The names the snippets are looked up by: the task's stack and agent, and the project name. */
export interface SnippetNames {
  stack: string;
  agent: AgentName;
  /** The sanitised project name (`[a-z0-9._-]`, no leading dot); empty for none. */
  project: string;
}

/** Where one level keeps its snippets. */
export interface SnippetFolder {
  /** `<repo>/.tsk/dockerfiles` or `<config>/tsk/dockerfiles`. */
  dir: string;
  /**
   * The repository root, for a repository's own folder: its files are hostile, so a snippet must stay
   * inside the repository, links included (see `realPathInside`). The user's own folder may link anywhere.
   */
  repositoryRoot?: string;
}

function isMissing(error: unknown): boolean {
  const code = errorCode(error);
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** The snippet's text, or `undefined` when there is no such file. */
async function readSnippet(path: string, repositoryRoot: string | undefined): Promise<string | undefined> {
  let file = path;
  try {
    if (repositoryRoot === undefined) await stat(path);
    else {
      const inside = await realPathInside(repositoryRoot, path);
      if (inside === undefined) {
        throw new ConfigError(`${path}: leads outside the repository (a symbolic link); tsk reads a repository's Dockerfile snippets only from files inside it`);
      }
      file = inside;
    }
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    if (isMissing(error)) return undefined;
    throw new ConfigError(`${path}: cannot read the Dockerfile snippet (${errorCode(error) ?? String(error)})`, { cause: error });
  }
  // O_NONBLOCK: a FIFO planted under the snippet's name must not hang tsk before fstat refuses it.
  // O_NOFOLLOW on the resolved path: a link swapped in after the check is not followed.
  const flags = constants.O_RDONLY | constants.O_NONBLOCK | (repositoryRoot === undefined ? 0 : constants.O_NOFOLLOW);
  const handle = await open(file, flags).catch((error: unknown) => {
    throw new ConfigError(`${path}: cannot read the Dockerfile snippet (${errorCode(error) ?? String(error)})`, { cause: error });
  });
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new ConfigError(`${path}: not a regular file; a Dockerfile snippet must be one`);
    if (info.size > TASK_LIMITS.setupBytes) {
      throw new ConfigError(`${path}: ${info.size} bytes; an image layer may have at most ${TASK_LIMITS.setupBytes}`);
    }
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}

/**
 * The snippets of one folder for these names, as configuration levels (one per file, its `source` the
 * file's path). A missing folder or file is no snippet.
 *
 * @throws ConfigError naming the file: unreadable, not a regular file, too large, or (in a repository)
 *   leading outside the repository.
 */
export async function readSnippetLayers(folder: SnippetFolder, names: SnippetNames): Promise<ConfigLayer[]> {
  const path = (kind: string, name: string): string => join(folder.dir, kind, `${name}.dockerfile`);
  const read = (file: string): Promise<string | undefined> => readSnippet(file, folder.repositoryRoot);
  const stackFile = path('stack', names.stack);
  const agentFile = path('agent', names.agent);
  const projectFile = names.project ? path('project', names.project) : undefined;
  const [stack, agent, project] = await Promise.all([read(stackFile), read(agentFile), projectFile ? read(projectFile) : undefined]);
  const layers: ConfigLayer[] = [];
  if (stack !== undefined) layers.push({ source: stackFile, stackConfig: { [names.stack]: { setup: stack } } });
  if (agent !== undefined) layers.push({ source: agentFile, agentConfig: { [names.agent]: { setup: agent } } });
  if (project !== undefined && projectFile) layers.push({ source: projectFile, setup: project });
  return layers;
}
