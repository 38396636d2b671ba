export { newTaskId, isTaskId } from './ids.js';
export { sanitizeRefPart, resultBranchName, sanitizeProjectName } from './sanitize.js';
export { runProcess, type RunProcessOptions, type RunProcessResult } from './run-process.js';
export { assetsRoot } from './assets.js';
export { tskDirs, type TskDirs } from './paths.js';
export { ensureDockerLockDir, lockDirProblem, type LockDirProblem } from './lock-dir.js';
export { lineWriter } from './line-writer.js';
export { taskDir, taskLogFile } from './task-paths.js';
