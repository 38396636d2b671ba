// `@tsk/engine/tasks`: creating a task (`tsk add`, the first half of `tsk run`): its repository, snapshot,
// configuration, instructions and image plan, follow-ups, `tsk run`'s records and what the machine grants
// a task. Loads handlebars, convict and ioredis (a follow-up of a queued task); no Docker client, no BullMQ
// and no nodegit: git's CLI finds the repository and snapshots it (see ARCHITECTURE.md "Entry points").
export { createTaskSpec, type CreateTaskSpecOptions } from '../tasks/create-task-spec.js';
export { earlierFromQueue, earlierFromRunRecord, type EarlierTask } from '../tasks/follow-up.js';
export { RunRecords, startedRunRecord, endedRunRecord, type RunRecord } from '../tasks/run-records.js';
export { resolveRepository, type RepositoryInfo } from '../git/repository.js';
export { deleteSnapshotRef } from '../git/snapshot.js';
export { grantTask, type TaskGrant } from '../trust/task-grant.js';
export { loadLocalTrust, type LocalTrust } from '../trust/load-trust.js';
export type { AgentApiEndpoints } from '../agent-api/endpoints.js';
