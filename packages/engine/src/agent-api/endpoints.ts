/**
 * Where the gateway sends an agent's requests and refreshes its logins. Machine settings (`[agent_api]`
 * in the user file, `TSK_AGENT_API_*`): never from a job or a repository, which could send the real key
 * anywhere.
 */
export interface AgentApiEndpoints {
  /** Anthropic's API, for API keys and Claude logins. */
  anthropic: string;
  /** Where Claude's OAuth tokens are refreshed. */
  anthropicOAuth: string;
  /** OpenAI's API (with `/v1`), for API keys. */
  openai: string;
  /** ChatGPT's Codex backend, for ChatGPT logins. */
  chatgpt: string;
  /** Where ChatGPT tokens are refreshed. */
  openaiOAuth: string;
}

export const DEFAULT_AGENT_API_ENDPOINTS: AgentApiEndpoints = {
  anthropic: 'https://api.anthropic.com',
  anthropicOAuth: 'https://console.anthropic.com/v1/oauth/token',
  openai: 'https://api.openai.com/v1',
  chatgpt: 'https://chatgpt.com/backend-api/codex',
  openaiOAuth: 'https://auth.openai.com/oauth/token',
};
