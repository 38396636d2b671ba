export { policyRefusals, policyRefusalMessage, hasImageLayers, type JobPolicyContext } from './job-policy.js';
export { grantTask, taskBudget, NO_GRANT, type TaskBudget, type TaskGrant, type GrantContext } from './task-grant.js';
export { loadLocalTrust, type LocalTrust } from './load-trust.js';
