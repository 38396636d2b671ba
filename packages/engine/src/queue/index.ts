export { connectRedis, redactRedisUrl, type ConnectRedisOptions, type RedisPurpose } from './redis-connection.js';
export { ensureEmbeddedRedis, type EmbeddedRedisOptions } from './embedded-redis.js';
export { redisImagePlan, redisServerArgs } from './redis-image.js';
export { openTaskQueue, type OpenTaskQueue, type OpenTaskQueueOptions } from './open-task-queue.js';
export { QueueKeys, QUEUE_NAME, DEFAULT_NAMESPACE } from './queue-keys.js';
export { TaskQueue, type TaskQueueOptions, type CancelOutcome, type WaitForTasksOptions } from './task-queue.js';
export { TaskStore, LOG_MAXLEN, type TaskOutcome, type ClaimResult, type HandBackResult } from './task-store.js';
export {
  WorkerRegistry,
  parseWorkerReport,
  isWorkerName,
  LABEL_SEEN_WINDOW_MS,
  type WorkerReport,
  type WorkerInfo,
  type FleetFacts,
} from './worker-registry.js';
export { waitingNote } from './waiting-note.js';
export { TaskChain, type JobEnqueuer } from './task-chain.js';
export { verifiedResult, type TaskRecord } from './task-record.js';
export {
  deriveTaskView,
  taskDurationMs,
  workerLostReason,
  STALLED_REASON,
  type TaskView,
  type JobState,
  type QueueFacts,
} from './task-view.js';
export { taskLogWriter, type TaskLogEntry, type TaskLogWriter } from './task-log.js';
export { originalForRetry, type RetryOverrides, type RetryTrust } from './retry-spec.js';
export { pinSnapshot } from './snapshot-pin.js';
export { deleteTask, cleanTasks, removeTaskFiles, type TaskCleanup } from './task-files.js';
export { openConfiguredQueue, dockerServices, type ConfiguredQueue, type OpenConfiguredQueueOptions, type DockerServices } from './open-configured-queue.js';
export { fetchTaskResults, type FetchOutcome, type FetchResultsOptions } from './fetch-results.js';
