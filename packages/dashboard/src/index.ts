// The web dashboard: `startDashboard` (used by `tsk dashboard` and `tsk server start --dashboard`) and the
// HTTP contract its page reads.
export type * from './api-contract.js';
export { startDashboard, PUBLIC_DIR, type Dashboard, type DashboardOptions } from './server.js';
export { readDashboardToken, checkBinding, MIN_TOKEN_LENGTH } from './token.js';
export { isLoopback } from './security.js';
