import { constants } from 'node:fs';
import { copyFile, lstat, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isResultBranch } from '../common/sanitize.js';
import { GitCommandError } from '../errors/git-command-error.js';
import { InputError } from '../errors/input-error.js';
import { silentSink, type LogSink } from '../logging/log-sink.js';
import { log as debug } from '../logging/logger.js';
import { checkedFetchArgs, runGit, tryGit } from './git-cli.js';
import { isBranchName, isCommitHash } from './git-values.js';
import { hostIdentity } from './identity.js';
import { LFS_FILTER, lfsObjectsDir, shareObjects } from './lfs.js';
import { dropWhiteouts, layerChanges, readLayerChanges, type LayerChanges } from './layer-changes.js';
import { originDirs } from './origin.js';
import { inspectWorkspaceGitDir, readWorkspaceHead } from './workspace-git-dir.js';

/** Where the agent worked and where its result goes. */
export interface CollectResultOptions {
  /** The task's workspace (a clone made by `prepareWorkspace`), possibly owned by the sandbox's uid. */
  workspaceDir: string;
  /**
   * A folder of tsk's own, never visible to the sandbox and not existing yet: the git directory the result
   * is assembled in.
   */
  scratchDir: string;
  /** Name of the result branch to create in the origin. */
  branch: string;
  /**
   * The ref to create instead of `refs/heads/<branch>` (a worker's mirror of a shared remote keeps results
   * under `refs/tsk/results/<id>`). No git-town parent is recorded then. @defaultValue `refs/heads/<branch>`
   */
  ref?: string;
  /** The commit the workspace started from; a HEAD still there with a clean tree means "no changes". */
  baseCommit: string;
  /** Task name, used in the message of the leftover-changes commit. */
  taskName: string;
  /** The origin repository (main work tree) that receives the branch. */
  repoPath: string;
  /** Recorded as the git-town parent of the branch when `gitTown` is set. */
  parentBranch?: string | undefined;
  /** Set `git-town-branch.<branch>.parent` in the origin. @defaultValue false */
  gitTown?: boolean;
  /**
   * A follow-up's earlier task: move its branch (`refs/heads/<branch>`, a `tsk/` result branch) from
   * `from` to the result instead of creating `branch`, when it still points at `from` and the result
   * descends from it (see {@link fastForwardBranch}); otherwise the result gets `branch` as usual, and
   * {@link CollectedResult.note} says why. Not with `ref`.
   */
  fastForward?: FastForward;
  /** Receives user-facing progress lines. @defaultValue silentSink */
  log?: LogSink;
  /**
   * The workspace was a copy-on-write layer (`workspaceDir` is its upper directory) over this shared base:
   * only what the layer holds is read, the rest is the base's, unchanged.
   */
  layer?: LayerBase;
}

/** The shared base under a task's copy-on-write layer (see `workspace-base.ts`). */
export interface LayerBase {
  /** The base's checkout (tsk's own, never written by the sandbox). */
  baseDir: string;
  /** The origin's object directory the base borrows. */
  objectsDir: string;
}

/** The branch a follow-up's result moves forward: its earlier task's result branch and result commit. */
export interface FastForward {
  taskId: string;
  branch: string;
  from: string;
}

/** What a task left behind. */
export interface CollectedResult {
  /** False when the agent changed nothing (no branch was created). */
  changed: boolean;
  /** The tip of the result branch, when `changed`. */
  commit: string | undefined;
  /** The branch that holds the result, when `changed` (a fast-forwarded follow-up's is its earlier task's). */
  branch?: string | undefined;
  /** Why a follow-up's result did not fast-forward its earlier task's branch. */
  note?: string | undefined;
}

/**
 * Settings of every git command that assembles the result. The git directory is tsk's own, but the work
 * tree and the objects are the agent's: no hook, no fsmonitor, no signing, no background maintenance.
 * LFS's filter is configured here so `.gitattributes` in the work tree can use it; any other filter a
 * work tree names is one the host's own configuration defines, or none at all.
 */
const SCRATCH_CONFIG = [
  '-c', 'core.hooksPath=/dev/null',
  '-c', 'core.fsmonitor=false',
  '-c', 'core.untrackedCache=false',
  '-c', 'commit.gpgsign=false',
  '-c', 'gc.auto=0',
  '-c', 'maintenance.auto=false',
  ...LFS_FILTER.flatMap(([key, value]) => ['-c', `${key}=${value}`]),
];

/**
 * A git directory of tsk's own in which to assemble the result: it borrows the workspace's objects
 * (read-only, through `objects/info/alternates`) and its index as a stat cache, and writes only to itself.
 * Every writing git command runs here, never with the agent's `.git` as its git directory: there, a
 * symbolic link (`logs/HEAD` → a file of the host) would make git write through it, and its config can
 * run programs.
 */
async function scratchRepository(scratchDir: string, workspaceGitDir: string, view: LayerView | undefined): Promise<string[]> {
  await mkdir(scratchDir, { mode: 0o700 });
  await runGit(['init', '--quiet', '--bare', '--', scratchDir], { cwd: scratchDir });
  // A layer's objects are the agent's new ones, the base's (none but what submodules brought) and the
  // origin's: tsk names those itself, never through a file the agent could have written.
  const ownObjects = join(workspaceGitDir, 'objects');
  const hasOwn = view === undefined || (await lstat(ownObjects).catch(() => undefined))?.isDirectory() === true;
  const objects = [...(hasOwn ? [ownObjects] : []), ...(view === undefined ? [] : [...(view.changes.gitDir === 'opaque' ? [] : [join(view.base.baseDir, '.git', 'objects')]), view.base.objectsDir])];
  await writeFile(join(scratchDir, 'objects', 'info', 'alternates'), `${objects.join('\n')}\n`);
  // The agent's index only saves re-hashing unchanged files: whatever it claims, the agent decides what its
  // result contains anyway. Copied, so git never writes to the agent's file. A layer's index is the base's
  // until the agent's git wrote one.
  const index = view === undefined ? join(workspaceGitDir, 'index') : await layerIndex(workspaceGitDir, view);
  if (index !== undefined) await copyFile(index, join(scratchDir, 'index'), constants.COPYFILE_EXCL).catch(() => undefined);
  return ['--git-dir', scratchDir, ...SCRATCH_CONFIG];
}

/** A copy-on-write layer, read (see {@link readLayerChanges}). */
interface LayerView {
  base: LayerBase;
  changes: LayerChanges;
}

/**
 * Whether a task's layer holds exactly what the workspace wrote into it before the sandbox ran — the
 * branch's `.git/HEAD` and its ref at the base commit (see `TaskWorkspace`) — and nothing else: no entry
 * of the work tree, no other file or link in `.git`. Its result is then the base commit. Read with
 * `lstat`-typed entries only, and given up at the first entry more than those few.
 */
export async function untouchedLayer(upperDir: string, changes: LayerChanges, branch: string, baseCommit: string): Promise<boolean> {
  if (changes.entries.size > 0 || changes.whiteouts.length > 0 || changes.gitDir !== 'dir') return false;
  const ref = ['refs', 'heads', ...branch.split('/')];
  const dirs = new Set(ref.slice(0, -1).map((_, i) => ref.slice(0, i + 1).join('/')));
  const files = new Map([
    ['HEAD', `ref: refs/heads/${branch}\n`],
    [ref.join('/'), `${baseCommit}\n`],
  ]);
  let found = 0;
  const walk = async (dir: string, rel: string): Promise<boolean> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = rel === '' ? entry.name : `${rel}/${entry.name}`;
      if (entry.isDirectory()) {
        if (!dirs.has(path) || !(await walk(join(dir, entry.name), path))) return false;
        continue;
      }
      const content = files.get(path);
      if (!entry.isFile() || content === undefined) return false;
      const stats = await lstat(join(dir, entry.name));
      if (stats.size !== Buffer.byteLength(content) || (await readFile(join(dir, entry.name), 'utf8')) !== content) return false;
      found += 1;
    }
    return true;
  };
  return (await walk(join(upperDir, '.git'), '')) && found === files.size;
}

/** The layer's index when the agent's git wrote one, none when it removed it, else the base's. */
async function layerIndex(workspaceGitDir: string, view: LayerView): Promise<string | undefined> {
  const own = await lstat(join(workspaceGitDir, 'index')).catch(() => undefined);
  if (own?.isFile()) return join(workspaceGitDir, 'index');
  if (own !== undefined || view.changes.gitDir === 'opaque') return undefined;
  return join(view.base.baseDir, '.git', 'index');
}

/**
 * Make the scratch index see only what the layer changed: every entry the layer does not reach is marked
 * skip-worktree, so `add --all` over the layer leaves it as it is (and git reads an unchanged
 * `.gitignore` or `.gitattributes` from the index), while entries under a removed or opaque folder, missing
 * from the layer, are removed. The layer's whiteouts go first: git must see a removed path as missing.
 */
async function narrowToLayer(git: string[], scratchDir: string, upperDir: string, view: LayerView): Promise<void> {
  const scratch = { cwd: scratchDir, trustRepository: true };
  const listed = await runGit([...git, 'ls-files', '-z', '--cached'], scratch);
  const unchanged = [...new Set(listed.split('\0').filter((path) => path.length > 0 && !layerChanges(view.changes.entries, path)))];
  if (unchanged.length > 0) {
    await runGit([...git, '--work-tree', upperDir, 'update-index', '-z', '--skip-worktree', '--stdin'], { ...scratch, input: `${unchanged.join('\0')}\0`, env: { GIT_LITERAL_PATHSPECS: '1' } });
  }
  await dropWhiteouts(view.changes);
}

/**
 * A submodule's commit as the agent left it: in a layer, the submodule's folder has no `.git` pointer
 * (that is the base's), so `add` keeps each gitlink as it was. The pointer is read from the base (tsk's),
 * the submodule's HEAD from its git directory in the layer, else the base; a layer that replaced the
 * pointer keeps whatever `add` made of it. Files only (checked by inspectWorkspaceGitDir), never git.
 */
async function layerGitlinks(git: string[], scratchDir: string, upperDir: string, view: LayerView): Promise<void> {
  const scratch = { cwd: scratchDir, trustRepository: true };
  const staged = await runGit([...git, 'ls-files', '-z', '--stage'], scratch);
  for (const record of staged.split('\0')) {
    const match = /^160000 ([0-9a-f]{40}) 0\t(.+)$/.exec(record);
    if (!match?.[1] || !match[2]) continue;
    const [, current, path] = match;
    if ((await lstat(join(upperDir, path, '.git')).catch(() => undefined)) !== undefined) continue;
    const pointer = await readFile(join(view.base.baseDir, path, '.git'), 'utf8').catch(() => undefined);
    const gitdir = /^gitdir: (\.\.\/[^\n]*\.git\/modules\/[^\n]+)\n?$/.exec(pointer ?? '')?.[1];
    if (gitdir === undefined) continue;
    const relative = join(path, gitdir);
    if (relative.startsWith('..') || !relative.startsWith('.git/modules/')) continue;
    const layerModule = join(upperDir, relative);
    if (!(await lstat(layerModule).catch(() => undefined))?.isDirectory()) continue;
    const baseModule = join(view.base.baseDir, relative);
    const hasHead = (await lstat(join(layerModule, 'HEAD')).catch(() => undefined))?.isFile() === true;
    const commit = await readWorkspaceHead(hasHead ? layerModule : baseModule, hasHead ? baseModule : undefined).catch(() => undefined);
    if (commit === undefined || commit === current) continue;
    await runGit([...git, 'update-index', '--cacheinfo', `160000,${commit},${path}`], { ...scratch, env: { GIT_LITERAL_PATHSPECS: '1' } });
  }
}

/**
 * `add --all` over a layer. When every entry `.` matches in the index is skip-worktree (the layer holds
 * only ignored files, say), git says so and exits 1 after updating the index as asked: that is no failure.
 */
async function addLayer(inTree: string[], upperDir: string): Promise<void> {
  try {
    await runGit([...inTree, 'add', '--all', '--', '.'], { cwd: upperDir, trustRepository: true });
  } catch (error) {
    if (!(error instanceof GitCommandError && /outside of your sparse-checkout definition/.test(error.message))) throw error;
  }
}

/**
 * The commit holding everything the agent left: its HEAD when the work tree matches it, else a new commit
 * on top of HEAD (`tsk automated changes for task: <name>`) made with the origin's identity — never the
 * one the agent's config names.
 */
async function resultCommit(options: CollectResultOptions, git: string[], head: string | undefined, originWorkdir: string, view: LayerView | undefined): Promise<string> {
  const scratch = { cwd: options.scratchDir, trustRepository: true };
  const inTree = [...git, '--work-tree', options.workspaceDir];
  const indexed = await tryGit([...git, 'ls-files', '--cached', '--error-unmatch', '--', '.'], scratch);
  if (indexed === undefined && head !== undefined) await runGit([...git, 'read-tree', '--end-of-options', head], scratch);
  if (view !== undefined) await narrowToLayer(git, options.scratchDir, options.workspaceDir, view);
  if (view === undefined) await runGit([...inTree, 'add', '--all', '--', '.'], { cwd: options.workspaceDir, trustRepository: true });
  else if (view.changes.entries.size > 0) await addLayer(inTree, options.workspaceDir);
  if (view !== undefined) await layerGitlinks(git, options.scratchDir, options.workspaceDir, view);
  const tree = (await runGit([...git, 'write-tree'], scratch)).trim();
  const headTree = head === undefined ? undefined : (await runGit([...git, 'rev-parse', '--verify', '--end-of-options', `${head}^{tree}`], scratch)).trim();
  if (head !== undefined && tree === headTree) return head;
  const identity = await hostIdentity(originWorkdir, true);
  const parents = head === undefined ? [] : ['-p', head];
  const commit = await runGit([...git, 'commit-tree', '--no-gpg-sign', '-m', `tsk automated changes for task: ${options.taskName}`, ...parents, tree], {
    ...scratch,
    env: {
      GIT_AUTHOR_NAME: identity.name,
      GIT_AUTHOR_EMAIL: identity.email,
      GIT_COMMITTER_NAME: identity.name,
      GIT_COMMITTER_EMAIL: identity.email,
    },
  });
  options.log?.write('tsk', 'Committed uncommitted changes left by the agent');
  return commit.trim();
}

/**
 * Bring `commit` into the origin as `refs/heads/<branch>`. The origin fetches it from the scratch
 * repository with every new object checked (`fetch.fsckObjects`: a malformed tree or a hostile
 * `.gitmodules` is refused before it lands), then `update-ref` with an empty old value creates the branch
 * atomically and refuses if it exists, so the user's HEAD, index, work tree and other branches are never
 * touched.
 */
async function publishBranch(options: CollectResultOptions, originDir: string, commit: string): Promise<void> {
  const origin = { cwd: originDir, trustRepository: true };
  const ref = options.ref ?? `refs/heads/${options.branch}`;
  if ((await tryGit(['rev-parse', '--verify', '--quiet', '--end-of-options', ref], origin)) !== undefined) {
    throw new InputError(`${options.ref ?? `branch ${options.branch}`} already exists in ${originDir}`, {
      hint: 'delete or rename that branch, then retry the task',
    });
  }
  await runGit(['update-ref', '-m', `tsk: result of task ${options.taskName}`, ref, commit, ''], origin);
}

/** Copy the result's objects into the origin, each checked on the way in; no ref of the origin moves. */
async function fetchIntoOrigin(options: CollectResultOptions, git: string[], originDir: string, commit: string): Promise<void> {
  await runGit([...git, 'update-ref', 'refs/heads/result', commit], { cwd: options.scratchDir, trustRepository: true });
  // No maintenance: a background gc in the user's repository is not tsk's to start.
  await runGit(checkedFetchArgs(options.scratchDir, ['refs/heads/result']), { cwd: originDir, trustRepository: true });
}

/**
 * Move a follow-up's earlier branch from `from` to `commit` in the origin: only a `tsk/` branch, only
 * forward (the agent may have rewritten history: a result that does not descend from `from` is no
 * fast-forward), and as a compare-and-swap (`update-ref <ref> <new> <old>`), so a branch the user moved
 * meanwhile is never overwritten. Returns why it did not move, or undefined when it did.
 */
async function fastForwardBranch(originDir: string, fastForward: FastForward, commit: string, taskName: string): Promise<string | undefined> {
  const origin = { cwd: originDir, trustRepository: true };
  const { branch, from, taskId } = fastForward;
  // The spec's validator checked it already; this module moves no branch of the user's whatever it is given.
  if (!isResultBranch(branch) || !isBranchName(branch) || !isCommitHash(from)) return `${branch} is not a tsk result branch`;
  const ref = `refs/heads/${branch}`;
  const current = (await tryGit(['rev-parse', '--verify', '--quiet', '--end-of-options', `${ref}^{commit}`], origin))?.trim();
  if (current === undefined) return `${branch} no longer exists`;
  if (current !== from) return `${branch} moved since task ${taskId} ended`;
  if ((await tryGit(['merge-base', '--is-ancestor', '--end-of-options', from, commit], origin)) === undefined) {
    return `the result does not build on task ${taskId}'s result ${from.slice(0, 12)} (history was rewritten)`;
  }
  const moved = await tryGit(['update-ref', '-m', `tsk: follow-up ${taskName} of task ${taskId}`, ref, commit, from], origin);
  return moved === undefined ? `${branch} moved since task ${taskId} ended` : undefined;
}

/**
 * Turn what the agent left in the workspace into a branch of the origin repository: refuse a workspace
 * whose `.git` points outside itself (see {@link inspectWorkspaceGitDir}), commit leftovers, then, unless
 * the result is still `baseCommit`, copy new LFS objects (verified) and create `refs/heads/<branch>` in the
 * origin, and record the git-town parent. A follow-up's result fast-forwards its earlier task's branch
 * instead, when it may ({@link CollectResultOptions.fastForward}). Throws {@link InputError} when the
 * branch already exists there.
 */
export async function collectResult(options: CollectResultOptions): Promise<CollectedResult> {
  const log = options.log ?? silentSink;
  const workspaceGitDir = join(options.workspaceDir, '.git');
  const view = options.layer && { base: options.layer, changes: await readLayerChanges(options.workspaceDir, options.layer.baseDir) };
  // A layer holding only what tsk put there before the sandbox ran: the result is the base commit, no git needed.
  if (view !== undefined && (await untouchedLayer(options.workspaceDir, view.changes, options.branch, options.baseCommit))) {
    debug.git('workspace %s untouched at %s', options.workspaceDir, options.baseCommit);
    return { changed: false, commit: undefined };
  }
  if (view !== undefined && view.changes.gitDir !== 'dir' && view.changes.gitDir !== 'opaque') {
    throw new GitCommandError(`${workspaceGitDir} is not a directory: the workspace's repository was replaced, refusing to use it`);
  }
  await inspectWorkspaceGitDir(workspaceGitDir, { whiteouts: view !== undefined });
  const lowerGitDir = view === undefined || view.changes.gitDir === 'opaque' ? undefined : join(view.base.baseDir, '.git');
  const head = await readWorkspaceHead(workspaceGitDir, lowerGitDir);
  const origin = await originDirs(options.repoPath);
  const git = await scratchRepository(options.scratchDir, workspaceGitDir, view);
  const commit = await resultCommit({ ...options, log }, git, head, origin.workdir, view);
  if (commit === options.baseCommit) {
    debug.git('workspace %s unchanged at %s', options.workspaceDir, commit);
    return { changed: false, commit: undefined };
  }

  // LFS objects first: once the branch exists, the user may check it out and need them. Only files whose
  // content hashes to their name are copied: the agent could otherwise plant wrong content under the oid
  // of an object the origin has not fetched yet.
  let lfsAdded = 0;
  for (const store of [lfsObjectsDir(workspaceGitDir), lfsObjectsDir(options.scratchDir)]) {
    lfsAdded += await shareObjects(store, lfsObjectsDir(origin.commonDir), { verify: true });
  }
  if (lfsAdded > 0) log.write('tsk', `Copied ${lfsAdded} LFS object(s) to the origin`);
  await fetchIntoOrigin(options, git, origin.workdir, commit);
  let note: string | undefined;
  if (options.fastForward !== undefined && options.ref === undefined) {
    const refused = await fastForwardBranch(origin.workdir, options.fastForward, commit, options.taskName);
    if (refused === undefined) {
      log.write('tsk', `Branch ${options.fastForward.branch} fast-forwarded in ${origin.workdir} (${options.fastForward.from.slice(0, 12)}..${commit.slice(0, 12)})`);
      return { changed: true, commit, branch: options.fastForward.branch };
    }
    note = `${refused}: result on its own branch ${options.branch}`;
    log.write('warn', note);
  }
  await publishBranch(options, origin.workdir, commit);
  if (options.ref !== undefined) return { changed: true, commit, branch: options.branch };
  if (options.gitTown && options.parentBranch) {
    await runGit(['config', '--', `git-town-branch.${options.branch}.parent`, options.parentBranch], { cwd: origin.workdir, trustRepository: true });
  }
  log.write('tsk', `Branch ${options.branch} created in ${origin.workdir} (${commit.slice(0, 12)})`);
  return { changed: true, commit, branch: options.branch, note };
}
