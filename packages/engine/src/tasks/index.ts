export { createTaskSpec, type CreateTaskSpecOptions } from './create-task-spec.js';
export { resolveTaskContext, type TaskContext, type TaskContextOptions } from './resolve-task-context.js';
export {
  planRepositoryImage,
  buildRepositoryImage,
  type PlanRepositoryImageOptions,
  type PlannedRepositoryImage,
  type BuildRepositoryImageOptions,
} from './plan-repository-image.js';
