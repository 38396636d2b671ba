import { runGit } from './git-cli.js';

/** The origin repository as the worker sees it. */
export interface OriginDirs {
  /** Top level of the origin's work tree. */
  workdir: string;
  /** Its shared git directory (objects, refs, config, `lfs/`, `modules/`). */
  commonDir: string;
}

/**
 * Locate the origin repository from the worker. This asks the git CLI with `safe.directory=*` rather
 * than nodegit: a worker running under another uid (root, a service account) must still reach the user's
 * repository, and libgit2's ownership check cannot be relaxed per call.
 */
export async function originDirs(repoPath: string): Promise<OriginDirs> {
  const out = await runGit(['rev-parse', '--path-format=absolute', '--show-toplevel', '--git-common-dir'], {
    cwd: repoPath,
    trustRepository: true,
  });
  const [workdir = '', commonDir = ''] = out.split('\n');
  return { workdir, commonDir };
}
