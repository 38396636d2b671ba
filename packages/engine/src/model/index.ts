export { AGENT_NAMES, isAgentName, type AgentName } from './agent-name.js';
export type { TaskSpec, TaskSource } from './task-spec.js';
export { TASK_STATUSES, TERMINAL_STATUSES, isTerminal, type TaskStatus } from './task-state.js';
export type { TaskResult } from './task-result.js';
