// The queue's public face. Commands use `TaskQueue`; workers use `WorkerQueue` (from
// `TaskQueue.forWorker()`). Records, chains, key names, BullMQ objects and the connection stay inside
// this folder: `queue-boundary.test.ts` fails when anything outside imports them or this file exports them.
export { connectRedis, redactRedisUrl, type ConnectRedisOptions, type RedisPurpose } from './redis-connection.js';
export { ensureEmbeddedRedis, type EmbeddedRedisOptions } from './embedded-redis.js';
export { redisImagePlan, redisServerArgs } from './redis-image.js';
export { openTaskQueue, type OpenTaskQueue, type OpenTaskQueueOptions } from './open-task-queue.js';
export { TaskQueue, type TaskQueueOptions, type CancelOutcome, type WaitForTasksOptions, type StoredTask, type JobCounts, type BoardQueue } from './task-queue.js';
export { WorkerQueue, type Claim, type StoredTaskReader, type Subscription } from './worker-queue.js';
export { type ConsumeOptions, type JobConsumer, type JobOutcome, type JobVerdict, type QueueJob } from './job-consumer.js';
export { type TaskOutcome, type HandBackResult, type DelayResult } from './task-store.js';
export { STALLED_REASON, workerLostReason, lostWith, type LostTask } from './lost-workers.js';
export { isWorkerName, LABEL_SEEN_WINDOW_MS, type WorkerReport, type WorkerInfo, type FleetFacts } from './worker-registry.js';
export { waitingNote } from './waiting-note.js';
export { cancelTask, cancelReport } from './cancel-report.js';
export { verifiedResult, type TaskRecord } from './task-record.js';
export { deriveTaskView, taskDurationMs, type TaskView, type JobState, type QueueFacts } from './task-view.js';
export { taskViewJson, type TaskViewJson } from './task-view-json.js';
export { type TaskLogEntry, type TaskLogWriter } from './task-log.js';
export { originalForRetry, type RetryOverrides, type RetryTrust } from './retry-spec.js';
export { pinSnapshot } from './snapshot-pin.js';
export { deleteTask, cleanTasks, removeTaskFiles, type TaskCleanup } from './task-files.js';
export { openConfiguredQueue, dockerServices, type ConfiguredQueue, type OpenConfiguredQueueOptions, type DockerServices } from './open-configured-queue.js';
export { fetchTaskResults, type FetchOutcome, type FetchResultsOptions } from './fetch-results.js';
export { queueMetrics, METRICS_MAX_PROJECTS, METRICS_MAX_WORKERS, type QueueMetrics, type TaskGroupMetrics, type WorkerMetrics } from './queue-metrics.js';
