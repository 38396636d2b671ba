import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readClaudeLogin } from './credentials.js';
import type { AgentApiEndpoints } from './endpoints.js';
import { AgentApiGateway } from './gateway.js';

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A stand-in for the agent's API on loopback: records what reaches it and answers with a short stream. */
async function startUpstream(answer: (seen: Seen) => { status: number; headers?: Record<string, string>; body: string }): Promise<{ server: Server; url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const entry = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body };
      seen.push(entry);
      const reply = answer(entry);
      res.writeHead(reply.status, { 'content-type': 'text/event-stream', ...reply.headers });
      // Two writes: the stream must pass through as it comes.
      res.write(reply.body.slice(0, 5));
      setTimeout(() => res.end(reply.body.slice(5)), 20);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

/** A request as the sandbox's agent sends it: over the unix socket. */
function send(socketPath: string, path: string, headers: Record<string, string>, body = ''): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, method: 'POST', headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('AgentApiGateway (real sockets)', () => {
  let dir: string;
  let upstream: Awaited<ReturnType<typeof startUpstream>>;
  let gateway: AgentApiGateway | undefined;
  let endpoints: AgentApiEndpoints;
  const socketPath = () => join(dir, 'agent-api.sock');

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tsk-gateway-'));
    upstream = await startUpstream((seen) =>
      seen.url.endsWith('/oauth/token')
        ? { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ access_token: 'sk-ant-oat-REFRESHED', refresh_token: 'refresh-2', expires_in: 3600 }) }
        : { status: 200, body: 'event: message_start\ndata: {}\n\n' },
    );
    endpoints = {
      anthropic: upstream.url,
      anthropicOAuth: `${upstream.url}/oauth/token`,
      openai: `${upstream.url}/v1`,
      chatgpt: `${upstream.url}/backend-api/codex`,
      openaiOAuth: `${upstream.url}/oauth/token`,
    };
  });

  afterEach(async () => {
    await gateway?.close();
    gateway = undefined;
    await new Promise((resolve) => upstream.server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  it('should replace whatever credential the sandbox sends with the real key, and stream the answer back', async () => {
    gateway = await AgentApiGateway.open({ socketPath: socketPath(), endpoints, credential: { kind: 'api-key', service: 'anthropic', key: 'sk-ant-REAL', source: 'test' } });
    expect((await stat(socketPath())).mode & 0o777).toBe(0o666);
    const answer = await send(socketPath(), '/v1/messages?beta=true', { 'x-api-key': 'placeholder', authorization: 'Bearer stolen?', 'anthropic-version': '2023-06-01' }, '{"model":"m"}');
    expect(answer).toMatchObject({ status: 200, body: 'event: message_start\ndata: {}\n\n' });
    expect(upstream.seen).toHaveLength(1);
    expect(upstream.seen[0]).toMatchObject({ method: 'POST', url: '/v1/messages?beta=true', body: '{"model":"m"}' });
    expect(upstream.seen[0]?.headers['x-api-key']).toBe('sk-ant-REAL');
    expect(upstream.seen[0]?.headers.authorization).toBeUndefined();
    expect(upstream.seen[0]?.headers['anthropic-version']).toBe('2023-06-01');
    expect(gateway.activity).toMatchObject({ requests: 1, lastStatus: 200, rateLimitedUntil: undefined });
  });

  it('should forward only API paths, and only to the configured API whatever host the request names', async () => {
    gateway = await AgentApiGateway.open({ socketPath: socketPath(), endpoints, credential: { kind: 'api-key', service: 'anthropic', key: 'sk-ant-REAL', source: 'test' } });
    for (const path of ['/etc/passwd', '/v1/../admin', '/v1//messages', '/api/oauth/profile', '/v1/%2e%2e/x']) {
      expect((await send(socketPath(), path, {})).status, path).toBe(403);
    }
    // An absolute URL in the request line (as if to a proxy) still goes to the configured API.
    const answer = await send(socketPath(), 'http://attacker.invalid/v1/messages', {});
    expect(answer.status).toBe(200);
    expect(upstream.seen.map((seen) => seen.url)).toEqual(['/v1/messages']);
  });

  it('should send a Claude login as a bearer token with the OAuth beta, refreshing it when due and keeping it outside the sandbox', async () => {
    const home = join(dir, 'home');
    const file = join(home, '.claude', '.credentials.json');
    await import('node:fs/promises').then(({ mkdir }) => mkdir(join(home, '.claude'), { recursive: true }));
    await writeFile(file, JSON.stringify({ claudeAiOauth: { accessToken: 'sk-ant-oat-OLD', refreshToken: 'refresh-1', expiresAt: Date.now() + 1000, scopes: ['user:inference'] }, other: 1 }));
    const credential = await readClaudeLogin(home);
    expect(credential?.kind).toBe('login');
    const notes: string[] = [];
    gateway = await AgentApiGateway.open({ socketPath: socketPath(), endpoints, credential: credential!, onNote: (line) => notes.push(line) });
    await send(socketPath(), '/v1/messages', { 'x-api-key': 'placeholder', 'anthropic-beta': 'fine-grained-tool-streaming-2025-05-14' });
    const [refresh, message] = upstream.seen;
    expect(refresh?.url).toBe('/oauth/token');
    expect(JSON.parse(refresh?.body ?? '{}')).toMatchObject({ grant_type: 'refresh_token', refresh_token: 'refresh-1' });
    expect(message?.headers.authorization).toBe('Bearer sk-ant-oat-REFRESHED');
    expect(message?.headers['x-api-key']).toBeUndefined();
    expect(message?.headers['anthropic-beta']).toBe('fine-grained-tool-streaming-2025-05-14,oauth-2025-04-20');
    const saved = JSON.parse(await readFile(file, 'utf8')) as { claudeAiOauth: Record<string, unknown>; other: number };
    expect(saved.other).toBe(1);
    expect(saved.claudeAiOauth).toMatchObject({ accessToken: 'sk-ant-oat-REFRESHED', refreshToken: 'refresh-2', scopes: ['user:inference'] });
    expect(notes.join('\n')).toContain('refreshed the Claude login');
  });

  it('should send a ChatGPT login to the Codex backend with its account', async () => {
    gateway = await AgentApiGateway.open({
      socketPath: socketPath(),
      endpoints,
      credential: { kind: 'login', service: 'openai', file: join(dir, 'auth.json'), source: 'test', login: { accessToken: 'chatgpt-token', refreshToken: undefined, expiresAt: undefined, accountId: 'acct-1' } },
    });
    await send(socketPath(), '/v1/responses', { authorization: 'Bearer placeholder' });
    expect(upstream.seen[0]?.url).toBe('/backend-api/codex/responses');
    expect(upstream.seen[0]?.headers.authorization).toBe('Bearer chatgpt-token');
    expect(upstream.seen[0]?.headers['chatgpt-account-id']).toBe('acct-1');
  });

  it('should let the agent wait out a limit that resets within the minute', async () => {
    await new Promise((resolve) => upstream.server.close(resolve));
    upstream = await startUpstream(() => ({ status: 429, headers: { 'retry-after': '5' }, body: '{}' }));
    endpoints = { ...endpoints, anthropic: upstream.url };
    gateway = await AgentApiGateway.open({ socketPath: socketPath(), endpoints, credential: { kind: 'api-key', service: 'anthropic', key: 'k', source: 'test' } });
    const answer = await send(socketPath(), '/v1/messages', {});
    expect(answer.headers['retry-after']).toBe('5');
    expect(answer.headers['x-should-retry']).toBeUndefined();
  });

  it('should remember when a rate limit resets', async () => {
    await new Promise((resolve) => upstream.server.close(resolve));
    const reset = Math.floor(Date.now() / 1000) + 120;
    upstream = await startUpstream(() => ({ status: 429, headers: { 'anthropic-ratelimit-unified-reset': String(reset), 'retry-after': '60' }, body: '{"type":"error","error":{"type":"rate_limit_error"}}' }));
    endpoints = { ...endpoints, anthropic: upstream.url };
    gateway = await AgentApiGateway.open({ socketPath: socketPath(), endpoints, credential: { kind: 'api-key', service: 'anthropic', key: 'k', source: 'test' } });
    const answer = await send(socketPath(), '/v1/messages', {});
    expect(answer.status).toBe(429);
    // Two minutes off: the agent is told not to wait it out in its sandbox.
    expect(answer.headers['x-should-retry']).toBe('false');
    expect(answer.headers['retry-after']).toBeUndefined();
    expect(gateway.activity.lastStatus).toBe(429);
    expect(gateway.activity.rateLimitedUntil).toBe(reset * 1000);
  });
});
