export { runGit, tryGit, type RunGitOptions } from './git-cli.js';
export { resolveRepository, type RepositoryInfo } from './repository.js';
export { createSnapshot, deleteSnapshotRef, snapshotRef, type CreateSnapshotOptions, type Snapshot } from './snapshot.js';
export { prepareWorkspace, type PrepareWorkspaceOptions, type Workspace } from './workspace.js';
export { pushSnapshot, pinRemoteSnapshot, deleteRemoteTaskRefs, fetchResult, RemoteMirror, type FetchResultOptions, type RefUpdate } from './remote.js';
export { collectResult, type CollectResultOptions, type CollectedResult, type FastForward, type LayerBase } from './result.js';
export { borrowedObjectDirs } from './borrowed-objects.js';
export { taskDiff, TASK_DIFF_LIMITS, type TaskDiff, type TaskDiffFile, type TaskDiffOptions } from './task-diff.js';
export { ensureWorkspaceBase, pruneWorkspaceBases, workspaceBasesDir, BASE_IDLE_MS, MAX_BASES, type WorkspaceBase, type EnsureWorkspaceBaseOptions } from './workspace-base.js';
export { FALLBACK_IDENTITY, type GitIdentity } from './identity.js';
export {
  isCommitHash,
  isSnapshotRef,
  isResultRef,
  resultRef,
  isBranchName,
  branchNameProblem,
  refNameProblem,
  sourceRefProblem,
  remoteUrlProblem,
  submodulePathProblem,
  taskSourceProblems,
} from './git-values.js';
