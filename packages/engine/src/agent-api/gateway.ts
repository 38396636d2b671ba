import { chmod, rm } from 'node:fs/promises';
import { createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { log as debug } from '../logging/index.js';
import { saveRefreshedLogin, type AgentCredential } from './credentials.js';
import type { AgentApiEndpoints } from './endpoints.js';
import { AGENT_WAITS_AT_MOST_MS, rateLimitReset, statedReset } from './rate-limit.js';

/** Hop-by-hop headers, and every header that carries a credential: the sandbox's never pass. */
const DROPPED_REQUEST_HEADERS = new Set([
  'host', 'connection', 'keep-alive', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade',
  'authorization', 'x-api-key', 'cookie', 'chatgpt-account-id',
]);
const DROPPED_RESPONSE_HEADERS = new Set(['connection', 'keep-alive', 'transfer-encoding', 'set-cookie']);
/** How much of a 429 answer is read for its reset time. */
const RATE_LIMIT_BODY_BYTES = 64 * 1024;
/** A login is refreshed when it expires within this. */
const REFRESH_MARGIN_MS = 5 * 60_000;
/** The public OAuth clients of the `claude` and `codex` CLIs, whose logins these are. */
const OAUTH_CLIENTS = { anthropic: '9d1c250a-e61b-44d9-88ed-5944d1962f5e', openai: 'app_EMoamEEZ73f0CkXaXp7hrann' } as const;

/** What the gateway saw of a task's API traffic. */
export interface GatewayActivity {
  requests: number;
  /** Set when the API answered 429: when its limit resets (epoch ms). */
  rateLimitedUntil: number | undefined;
  /** The status of the last answer, so a limit the agent waited out is not taken for the end. */
  lastStatus: number | undefined;
}

export interface AgentApiGatewayOptions {
  /** The unix socket to listen on (mounted into the sandbox). */
  socketPath: string;
  credential: AgentCredential;
  endpoints: AgentApiEndpoints;
  /** Lines for the task's log (refreshes, refused requests). */
  onNote?: (line: string) => void;
}

/**
 * The one door from a sandbox to its agent's API. The agent holds a placeholder and reaches this over a
 * unix socket mounted into its sandbox (bridged to `http://127.0.0.1:<port>` there); the gateway drops
 * whatever credential the request carries, puts the real one on, and forwards it — to the agent's own API
 * and nowhere else, only under `/v1/`. The real key or token lives in this process alone: never in the
 * sandbox's environment, files or image, nor in the queue. A login about to expire is refreshed here and
 * written back to the login file it came from.
 */
export class AgentApiGateway {
  private readonly server: Server;
  private refreshing: Promise<void> | undefined;
  readonly activity: GatewayActivity = { requests: 0, rateLimitedUntil: undefined, lastStatus: undefined };

  private constructor(private readonly options: AgentApiGatewayOptions) {
    this.server = createServer((req, res) => void this.handle(req, res));
  }

  /** Listen on the socket, which the sandbox user (another uid) may connect to. */
  static async open(options: AgentApiGatewayOptions): Promise<AgentApiGateway> {
    const gateway = new AgentApiGateway(options);
    await rm(options.socketPath, { force: true });
    await new Promise<void>((resolve, reject) => {
      gateway.server.once('error', reject);
      gateway.server.listen(options.socketPath, () => resolve());
    });
    await chmod(options.socketPath, 0o666);
    return gateway;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await rm(this.options.socketPath, { force: true });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const target = this.target(req.url ?? '');
    if (target === undefined) {
      this.options.onNote?.(`agent API gateway refused ${String(req.method).slice(0, 10)} ${String(req.url).slice(0, 200)}: not an API path`);
      res.writeHead(403, { 'content-type': 'text/plain' }).end('tsk: only the agent API (/v1/...) is reachable through this endpoint\n');
      req.resume();
      return;
    }
    try {
      await this.refreshIfDue();
    } catch (error) {
      this.options.onNote?.(`could not refresh the ${this.options.credential.service} login: ${(error as Error).message}`);
    }
    this.activity.requests += 1;
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const upstream = send(target, { method: req.method, headers: this.headers(req.headers) }, (answer) => this.answer(answer, res));
    upstream.on('error', (error) => {
      debug.runner('agent API %s: %O', target.host, error);
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`tsk: the agent API at ${target.host} could not be reached: ${error.message}\n`);
    });
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  }

  private answer(answer: IncomingMessage, res: ServerResponse): void {
    const status = answer.statusCode ?? 502;
    this.activity.lastStatus = status;
    const headers: OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(answer.headers)) if (!DROPPED_RESPONSE_HEADERS.has(name) && value !== undefined) headers[name] = value;
    if (status === 429) {
      // A limit far off: the agent gives up at once (Claude honours x-should-retry; without retry-after
      // Codex's few retries end quickly) instead of sleeping in its sandbox, and the task waits in the
      // queue. A near one the agent waits out itself, keeping its work.
      const reset = statedReset(answer.headers, '');
      if (reset !== undefined && reset - Date.now() > AGENT_WAITS_AT_MOST_MS) {
        delete headers['retry-after'];
        headers['x-should-retry'] = 'false';
      }
    }
    res.writeHead(status, headers);
    if (status === 429) {
      let body = '';
      answer.on('data', (chunk: Buffer) => {
        if (body.length < RATE_LIMIT_BODY_BYTES) body += chunk.toString('utf8');
      });
      answer.on('end', () => {
        const until = rateLimitReset(answer.headers, body);
        this.activity.rateLimitedUntil = Math.max(this.activity.rateLimitedUntil ?? 0, until);
      });
    }
    answer.pipe(res);
  }

  /** The upstream URL of a sandbox request, or undefined when the path is not the API's. */
  private target(url: string): URL | undefined {
    const parsed = new URL(url, 'http://sandbox');
    const path = parsed.pathname;
    if (!path.startsWith('/v1/') || path.includes('//') || path.split('/').some((part) => part === '..' || part === '.')) return undefined;
    const { credential, endpoints } = this.options;
    let base: string;
    let rest: string;
    if (credential.service === 'anthropic') {
      base = endpoints.anthropic;
      rest = path;
    } else {
      // Codex's base URL ends in /v1; the ChatGPT backend takes the same paths without it.
      base = credential.kind === 'login' ? endpoints.chatgpt : endpoints.openai;
      rest = path.slice('/v1'.length);
    }
    return new URL(`${base.replace(/\/+$/, '')}${rest}${parsed.search}`);
  }

  private headers(incoming: IncomingHttpHeaders): OutgoingHttpHeaders {
    const headers: OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(incoming)) if (!DROPPED_REQUEST_HEADERS.has(name) && value !== undefined) headers[name] = value;
    const { credential } = this.options;
    if (credential.kind === 'api-key') {
      if (credential.service === 'anthropic') headers['x-api-key'] = credential.key;
      else headers.authorization = `Bearer ${credential.key}`;
      return headers;
    }
    headers.authorization = `Bearer ${credential.login.accessToken}`;
    if (credential.service === 'anthropic') {
      // Claude's API takes its subscription tokens only with this beta flag.
      const betas = String(headers['anthropic-beta'] ?? '').split(',').map((beta) => beta.trim()).filter(Boolean);
      if (!betas.includes('oauth-2025-04-20')) betas.push('oauth-2025-04-20');
      headers['anthropic-beta'] = betas.join(',');
    } else if (credential.login.accountId !== undefined) {
      headers['chatgpt-account-id'] = credential.login.accountId;
    }
    return headers;
  }

  /** Refresh a login that expires soon, once however many requests are waiting. */
  private async refreshIfDue(): Promise<void> {
    const { credential } = this.options;
    if (credential.kind !== 'login' || credential.login.refreshToken === undefined || credential.login.expiresAt === undefined) return;
    if (credential.login.expiresAt - Date.now() > REFRESH_MARGIN_MS) return;
    this.refreshing ??= this.refresh(credential).finally(() => (this.refreshing = undefined));
    await this.refreshing;
  }

  private async refresh(credential: Extract<AgentCredential, { kind: 'login' }>): Promise<void> {
    const { endpoints } = this.options;
    const url = credential.service === 'anthropic' ? endpoints.anthropicOAuth : endpoints.openaiOAuth;
    const body: Record<string, string> = { grant_type: 'refresh_token', refresh_token: credential.login.refreshToken ?? '', client_id: OAUTH_CLIENTS[credential.service] };
    if (credential.service === 'openai') body.scope = 'openid profile email';
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(30_000) });
    if (!response.ok) throw new Error(`${url} answered ${response.status}`);
    const answer = (await response.json()) as { access_token?: unknown; refresh_token?: unknown; expires_in?: unknown };
    if (typeof answer.access_token !== 'string' || answer.access_token === '') throw new Error(`${url} sent no access token`);
    credential.login.accessToken = answer.access_token;
    if (typeof answer.refresh_token === 'string' && answer.refresh_token !== '') credential.login.refreshToken = answer.refresh_token;
    credential.login.expiresAt = typeof answer.expires_in === 'number' ? Date.now() + answer.expires_in * 1000 : undefined;
    await saveRefreshedLogin(credential);
    this.options.onNote?.(`refreshed the ${credential.service === 'anthropic' ? 'Claude' : 'ChatGPT'} login (kept in ${credential.file}, outside the sandbox)`);
  }
}
