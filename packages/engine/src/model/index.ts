export { AGENT_NAMES, isAgentName, type AgentName } from './agent-name.js';
export { TASK_SPEC_VERSION, type TaskSpec, type TaskSource, type TaskSigner, type FollowUp } from './task-spec.js';
export { TASK_STATUSES, TERMINAL_STATUSES, isTerminal, type TaskStatus } from './task-state.js';
export type { AgentUsage, TaskResult } from './task-result.js';
export { TASK_LIMITS } from './task-limits.js';
export { validateTaskSpec } from './validate-task-spec.js';
export { WORKER_LABEL, LABEL_LIMITS, isWorkerLabel, labelListProblem, parseLabelArguments, missingLabels, describeLabels } from './worker-labels.js';
