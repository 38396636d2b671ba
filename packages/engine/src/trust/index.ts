export { policyRefusals, policyRefusalMessage, hasImageLayers, type JobPolicyContext } from './job-policy.js';
export { grantTask, NO_GRANT, type TaskGrant, type GrantContext } from './task-grant.js';
export { loadLocalTrust, type LocalTrust } from './load-trust.js';
