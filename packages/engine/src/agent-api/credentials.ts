import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../common/atomic-file.js';

/** The API service an agent talks to. */
export type AgentService = 'anthropic' | 'openai';

/**
 * A real credential, held by the process that runs the task and never given to the sandbox: the agent
 * gets a placeholder and the gateway ({@link AgentApiGateway}) puts this on its requests.
 */
export type AgentCredential =
  /** An API key (`x-api-key` for Anthropic, a bearer token for OpenAI). */
  | { kind: 'api-key'; service: AgentService; key: string; source: string }
  /**
   * A subscription login: Claude's OAuth tokens (`~/.claude/.credentials.json`) or Codex's ChatGPT tokens
   * (`~/.codex/auth.json`). `file` is where a refreshed token is written back, outside the sandbox.
   */
  | { kind: 'login'; service: AgentService; login: LoginTokens; file: string; source: string };

export interface LoginTokens {
  accessToken: string;
  refreshToken: string | undefined;
  /** Epoch ms; undefined when the file does not say. */
  expiresAt: number | undefined;
  /** ChatGPT account (Codex logins). */
  accountId: string | undefined;
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const str = (value: unknown): string | undefined => (typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined);

async function readJson(path: string): Promise<Json | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const parsed: unknown = JSON.parse(text);
    return isObject(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** Claude's subscription login, `~/.claude/.credentials.json` → `claudeAiOauth`. */
export async function readClaudeLogin(home: string): Promise<AgentCredential | undefined> {
  const file = join(home, '.claude', '.credentials.json');
  const oauth = (await readJson(file))?.claudeAiOauth;
  if (!isObject(oauth)) return undefined;
  const accessToken = str(oauth.accessToken);
  if (accessToken === undefined) return undefined;
  const expiresAt = typeof oauth.expiresAt === 'number' ? oauth.expiresAt : undefined;
  return {
    kind: 'login',
    service: 'anthropic',
    login: { accessToken, refreshToken: str(oauth.refreshToken), expiresAt, accountId: undefined },
    file,
    source: file,
  };
}

/** The API key `claude` keeps in `~/.claude.json` after a console login (`primaryApiKey`). */
async function readClaudeStoredKey(home: string): Promise<AgentCredential | undefined> {
  const file = join(home, '.claude.json');
  const key = str((await readJson(file))?.primaryApiKey);
  return key === undefined ? undefined : { kind: 'api-key', service: 'anthropic', key, source: `${file} (primaryApiKey)` };
}

/** Codex's login, `~/.codex/auth.json`: an API key (`OPENAI_API_KEY`) or ChatGPT tokens. */
export async function readCodexLogin(home: string): Promise<AgentCredential | undefined> {
  const file = join(home, '.codex', 'auth.json');
  const auth = await readJson(file);
  if (auth === undefined) return undefined;
  const key = str(auth.OPENAI_API_KEY);
  if (key !== undefined) return { kind: 'api-key', service: 'openai', key, source: `${file} (OPENAI_API_KEY)` };
  const tokens = auth.tokens;
  if (!isObject(tokens)) return undefined;
  const accessToken = str(tokens.access_token);
  if (accessToken === undefined) return undefined;
  return {
    kind: 'login',
    service: 'openai',
    login: { accessToken, refreshToken: str(tokens.refresh_token), expiresAt: jwtExpiry(accessToken), accountId: str(tokens.account_id) },
    file,
    source: file,
  };
}

/** The `exp` of a JWT access token, in epoch ms (ChatGPT tokens carry no separate expiry). */
function jwtExpiry(token: string): number | undefined {
  const payload = token.split('.')[1];
  if (payload === undefined) return undefined;
  try {
    const claims: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    return isObject(claims) && typeof claims.exp === 'number' ? claims.exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The owner's own credential for an agent, as the agent itself would pick it: the API key in the
 * environment first (`ANTHROPIC_API_KEY`, `OPENAI_API_KEY`), then the login files under `home`.
 */
export async function ownerCredential(agent: 'claude' | 'codex', home: string, env: NodeJS.ProcessEnv): Promise<AgentCredential | undefined> {
  if (agent === 'claude') {
    const key = str(env.ANTHROPIC_API_KEY);
    if (key !== undefined) return { kind: 'api-key', service: 'anthropic', key, source: 'ANTHROPIC_API_KEY' };
    return (await readClaudeLogin(home)) ?? (await readClaudeStoredKey(home));
  }
  const key = str(env.OPENAI_API_KEY);
  if (key !== undefined) return { kind: 'api-key', service: 'openai', key, source: 'OPENAI_API_KEY' };
  return readCodexLogin(home);
}

/** An API key read from a file (`[worker] team_credentials.<agent>`). */
export async function keyFileCredential(agent: 'claude' | 'codex', file: string): Promise<AgentCredential | undefined> {
  let key: string | undefined;
  try {
    key = str(await readFile(file, 'utf8'));
  } catch {
    return undefined;
  }
  return key === undefined ? undefined : { kind: 'api-key', service: agent === 'claude' ? 'anthropic' : 'openai', key, source: file };
}

/**
 * Write refreshed tokens back to the login file they came from, keeping everything else in it, so the
 * next task (and the agent on the host) finds the new ones. Written aside and renamed: never half a file.
 */
export async function saveRefreshedLogin(credential: Extract<AgentCredential, { kind: 'login' }>): Promise<void> {
  const current = (await readJson(credential.file)) ?? {};
  const { login } = credential;
  let updated: Json;
  if (credential.service === 'anthropic') {
    const oauth = isObject(current.claudeAiOauth) ? current.claudeAiOauth : {};
    updated = { ...current, claudeAiOauth: { ...oauth, accessToken: login.accessToken, refreshToken: login.refreshToken, expiresAt: login.expiresAt } };
  } else {
    const tokens = isObject(current.tokens) ? current.tokens : {};
    updated = { ...current, tokens: { ...tokens, access_token: login.accessToken, refresh_token: login.refreshToken }, last_refresh: new Date().toISOString() };
  }
  await writeFileAtomic(credential.file, `${JSON.stringify(updated, null, 2)}\n`);
}
