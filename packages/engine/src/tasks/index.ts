export { createTaskSpec, type CreateTaskSpecOptions } from './create-task-spec.js';
export { resolveTaskContext, type TaskContext, type TaskContextOptions } from './resolve-task-context.js';
export {
  planRepositoryImage,
  buildRepositoryImage,
  type PlanRepositoryImageOptions,
  type PlannedRepositoryImage,
  type BuildRepositoryImageOptions,
} from './plan-repository-image.js';
export { earlierFromQueue, earlierFromRunRecord, prepareFollowUp, type EarlierTask } from './follow-up.js';
export { RunRecords, startedRunRecord, endedRunRecord, runRecordView, RUN_RECORD_MAX_BYTES, type RunRecord } from './run-records.js';
export { taskDiffSource, readTaskDiff, type TaskDiffSource, type ReadTaskDiffOptions } from './task-diff-source.js';
