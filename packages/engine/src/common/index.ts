export { newTaskId, isTaskId } from './ids.js';
export { sanitizeRefPart, resultBranchName, sanitizeProjectName } from './sanitize.js';
export { runProcess, type RunProcessOptions, type RunProcessResult } from './run-process.js';
export { assetsRoot } from './assets.js';
export { tskDirs, ensureDockerLockDir, type TskDirs } from './paths.js';
export { lineWriter } from './line-writer.js';
export { LineSplitter, cutLine, lineCutMarker, type LineSplitterOptions } from './line-splitter.js';
export { stripControl, oneLine, escapeControlInJson } from './terminal-text.js';
