export { AgentApiGateway, type AgentApiGatewayOptions, type GatewayActivity } from './gateway.js';
export { ownerCredential, keyFileCredential, readClaudeLogin, readCodexLogin, saveRefreshedLogin, type AgentCredential, type AgentService, type LoginTokens } from './credentials.js';
export { DEFAULT_AGENT_API_ENDPOINTS, type AgentApiEndpoints } from './endpoints.js';
export { rateLimitReset, statedReset, MAX_RATE_LIMIT_WAIT_MS } from './rate-limit.js';
export { BRIDGE_PORT, BRIDGE_SCRIPT_PATH, BRIDGE_URL, GATEWAY_SOCKET_PATH, bridgedCommand, writeBridgeScript } from './bridge.js';
