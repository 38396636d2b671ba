// The engine's public API: a curated list of named exports used by the CLI and the worker.
export {
  TskError,
  ConfigError,
  TemplateError,
  InputError,
  GitCommandError,
  ImageBuildError,
  ContainerError,
  DockerUnavailableError,
  TaskCancelledError,
  type TskErrorCode,
} from './errors/index.js';
export {
  newTaskId,
  isTaskId,
  sanitizeRefPart,
  resultBranchName,
  assetsRoot,
  tskDirs,
  ensureDockerLockDir,
  stripControl,
  oneLine,
  escapeControlInJson,
  lineCutMarker,
  type TskDirs,
} from './common/index.js';
export { log, silentSink, teeSink, boundedSink, logCutLine, LOG_LIMITS, type LogSink, type LogSource, type LogLimits } from './logging/index.js';
export {
  AGENT_NAMES,
  isAgentName,
  TASK_STATUSES,
  TERMINAL_STATUSES,
  isTerminal,
  type AgentName,
  type TaskSpec,
  type TaskSource,
  type TaskStatus,
  type TaskResult,
} from './model/index.js';
export {
  loadConfig,
  type CliConfigOverrides,
  type ResolvedConfig,
  type TaskConfig,
  type MachineConfig,
  type WorkerPolicy,
  type VolumeMount,
  type EnvVar,
} from './config/index.js';
export { listTemplates, readTemplate, renderInstructions } from './templates/index.js';
export { resolveRepository, createSnapshot, deleteSnapshotRef, prepareWorkspace, collectResult, type RepositoryInfo } from './git/index.js';
export {
  createDocker,
  assertDockerAvailable,
  ImageBuilder,
  ensureBaseImage,
  imageId,
  bootstrapBaseImage,
  renderDryRun,
  detectStack,
  type Dockerode,
  type ImagePlan,
} from './docker/index.js';
export { getAgent, ClaudeLogParser, CodexLogParser, type Agent } from './agents/index.js';
export { DirectNetworkProvider, type SandboxNetworkProvider, type SandboxNetworkLease } from './proxy/index.js';
export { ProxyError } from './errors/index.js';
export {
  ProxyManager,
  ProxyLease,
  planProxyImage,
  proxyEnv,
  proxyFingerprint,
  proxyContainerName,
  egressNetworkName,
  taskNetworkName,
  PROXY_PORT,
  PROXY_ALIAS,
  LABEL_PROXY,
  LABEL_ROLE,
  type NetworkTask,
  type ProxyManagerOptions,
  type StopIdleProxiesResult,
  type ProxyImagePlan,
} from './proxy/index.js';
export { TaskRunner, taskDir, type TaskRunnerOptions, type RunTaskOptions } from './runner/task-runner.js';
export { agentIds, type AgentIds } from './runner/agent-ids.js';
export { createTaskSpec, resolveTaskContext, planRepositoryImage, type CreateTaskSpecOptions } from './tasks/index.js';
export { QueueError, TaskPayloadError } from './errors/index.js';
export {
  TaskQueue,
  openTaskQueue,
  openConfiguredQueue,
  dockerServices,
  connectRedis,
  redactRedisUrl,
  ensureEmbeddedRedis,
  redisImagePlan,
  deriveTaskView,
  taskDurationMs,
  validateTaskSpec,
  deleteTask,
  cleanTasks,
  QueueKeys,
  type TaskView,
  type CancelOutcome,
  type RetryOverrides,
  type TaskLogEntry,
  type OpenTaskQueue,
  type ConfiguredQueue,
  type DockerServices,
  type RedisPurpose,
} from './queue/index.js';
export {
  TaskWorker,
  WorkerServer,
  createWorkerServer,
  runWorkerServer,
  stopOnSignals,
  formatWorkerEvent,
  listServers,
  stopServers,
  policyRefusal,
  desktopNotifier,
  DEFAULT_WORKER_TIMING,
  type WorkerEvent,
  type WorkerTiming,
  type TaskExecutor,
  type ServerInfo,
  type CreateWorkerServerOptions,
} from './worker/index.js';
