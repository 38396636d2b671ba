// The engine's public API: a curated list of named exports used by the CLI and the worker.
//
// Everything, at a price: importing this loads dockerode, ioredis and the rest (about 0.7 s on a
// slow disk). A command that needs less imports an entry point instead (package.json "exports"; see
// ARCHITECTURE.md "Entry points"); this barrel re-exports each of them, so the two never disagree.
export * from './entry/core.js';
export * from './entry/config.js';
export * from './entry/templates.js';
export * from './entry/queue.js';
export * from './entry/signing.js';
export * from './entry/tasks.js';
export { resolveRepository, createSnapshot, deleteSnapshotRef, prepareWorkspace, collectResult, type RepositoryInfo } from './git/index.js';
export {
  createDocker,
  assertDockerAvailable,
  ImageBuilder,
  ensureBaseImage,
  imageId,
  bootstrapBaseImage,
  checkBootstrapOptions,
  DEFAULT_BASE_IMAGE,
  renderDryRun,
  detectStack,
  type Dockerode,
  type ImagePlan,
  type TerminalSession,
  type TerminalSize,
} from './docker/index.js';
export { getAgent, ClaudeLogParser, CodexLogParser, type Agent } from './agents/index.js';
export { DirectNetworkProvider, type SandboxNetworkProvider, type SandboxNetworkLease } from './proxy/index.js';
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
  LABEL_LOCKS,
  lockDomain,
  type NetworkTask,
  type ProxyManagerOptions,
  type StopIdleProxiesResult,
  type ProxyImagePlan,
} from './proxy/index.js';
export { TaskRunner, type TaskRunnerOptions, type RunTaskOptions } from './runner/task-runner.js';
export { agentIds, type AgentIds } from './runner/agent-ids.js';
export { cleanWorkspaces, TaskWorkspace, workspaceModeFromEnv, type TaskWorkspaceOptions, type WorkspaceMode, type WorkspaceMount, type WorkspaceTask } from './runner/task-workspace.js';
export { createTaskSpec, resolveTaskContext, planRepositoryImage, buildRepositoryImage, type CreateTaskSpecOptions } from './tasks/index.js';
export {
  earlierFromQueue,
  earlierFromRunRecord,
  taskDiffSource,
  readTaskDiff,
  type EarlierTask,
  type TaskDiffSource,
  type ReadTaskDiffOptions,
} from './tasks/index.js';
export { taskDiff, TASK_DIFF_LIMITS, type TaskDiff, type TaskDiffFile, type TaskDiffOptions } from './git/index.js';
export {
  TaskWorker,
  WorkerServer,
  createWorkerServer,
  runWorkerServer,
  stopOnSignals,
  formatWorkerEvent,
  listServers,
  stopServers,
  desktopNotifier,
  RunLedger,
  DEFAULT_WORKER_TIMING,
  type WorkerEvent,
  type WorkerTiming,
  type TaskExecutor,
  type WorkerTrust,
  type ServerInfo,
  type CreateWorkerServerOptions,
} from './worker/index.js';
export {
  AgentApiGateway,
  DEFAULT_AGENT_API_ENDPOINTS,
  ownerCredential,
  rateLimitReset,
  type AgentApiEndpoints,
  type AgentCredential,
  type GatewayActivity,
} from './agent-api/index.js';
export { grantTask, taskBudget, loadLocalTrust, policyRefusals, NO_GRANT, type TaskBudget, type TaskGrant, type LocalTrust } from './trust/index.js';
