import { Flags } from '@oclif/core';
import { resolveRepository } from '@tsk/engine/tasks';

export const repoFlag = {
  repo: Flags.directory({ description: 'Repository whose .tsk/ templates count (default: the current directory).', exists: true }),
};

/** The repository containing `path` (default cwd), or undefined outside any repository. */
export async function repoRootOrUndefined(path: string | undefined): Promise<string | undefined> {
  try {
    return (await resolveRepository(path ?? process.cwd())).workdir;
  } catch (error) {
    if (path !== undefined) throw error;
    return undefined;
  }
}
