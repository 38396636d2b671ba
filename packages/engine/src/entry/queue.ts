// `@tsk/engine/queue`: the queue's door for commands (BullMQ and ioredis, no Docker client and no nodegit
// until a function that needs them runs: the embedded Redis's first start, deleting a snapshot ref), and
// `tsk run`'s own task records, which `tsk list` shows beside the queue's.
export {
  TaskQueue,
  openTaskQueue,
  openConfiguredQueue,
  dockerServices,
  connectRedis,
  redactRedisUrl,
  ensureEmbeddedRedis,
  redisImagePlan,
  redisServerArgs,
  deriveTaskView,
  taskDurationMs,
  taskViewJson,
  type TaskViewJson,
  deleteTask,
  cleanTasks,
  fetchTaskResults,
  type FetchOutcome,
  WorkerQueue,
  type TaskView,
  type CancelOutcome,
  type RetryOverrides,
  type RetryTrust,
  type TaskLogEntry,
  type OpenTaskQueue,
  type WorkerInfo,
  type ConfiguredQueue,
  type DockerServices,
  type RedisPurpose,
} from '../queue/index.js';
export { RunRecords, startedRunRecord, endedRunRecord, runRecordView, type RunRecord } from '../tasks/run-records.js';
