import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';

/**
 * A stand-in for the Anthropic Messages API and the OpenAI Responses API that drives the real `claude`
 * and `codex` CLIs through a scripted task. Nothing here can reach the real services, so the answers are
 * fixtures (`agent-api-fixtures/`), streamed in the documented SSE event formats; every request is
 * recorded so a test can check what reached the "API" (the key a gateway put in, the tool results).
 *
 * How a request finds its answer: a script holds conversations, each a list of turns. The conversation is
 * the first whose `match` occurs in the request's user text (a sub-agent's prompt), else the first without
 * a `match`. Its turn is the first one not yet behind the request: a turn is behind once the request carries
 * the results of every tool call it made, or once it was served `times` times.
 * Going by ids, not by request count, keeps the script on track whatever extra or retried calls the CLI
 * makes. A request that carries no tools (title generation, quota probes) gets `sideReply`.
 */

export interface TurnUsage {
  input_tokens: number;
  output_tokens: number;
}

/** An HTTP error answer instead of a model turn (429 with rate-limit headers, 529, 500…). */
export interface ErrorAnswer {
  status: number;
  headers?: Record<string, string>;
  body: unknown;
}

interface TurnCommon {
  /** Wait this long before answering (timeout and budget tests). */
  delayMs?: number;
  /** Serve this turn at most this many times, then move past it (an error turn followed by a recovery). */
  times?: number;
  /** Answer with this HTTP error instead of a model turn. */
  error?: ErrorAnswer;
}

export type AnthropicBlock =
  | { type: 'text'; text: string }
  | { type: 'tool_use'; id: string; name: string; input: Record<string, unknown> };

export interface AnthropicTurn extends TurnCommon {
  content?: AnthropicBlock[];
  usage?: TurnUsage;
}

export type OpenAIOutputItem =
  | { type: 'message'; text: string }
  | { type: 'reasoning'; summary: string }
  | { type: 'function_call'; call_id: string; name: string; arguments: Record<string, unknown> }
  | { type: 'custom_tool_call'; call_id: string; name: string; input: string };

export interface OpenAITurn extends TurnCommon {
  output?: OpenAIOutputItem[];
  usage?: TurnUsage;
}

export interface Conversation<Turn> {
  /** Text that identifies this conversation in the request's user messages (a sub-agent's prompt). */
  match?: string;
  turns: Turn[];
}

export interface Script<Turn> {
  conversations: Conversation<Turn>[];
  /** The answer to side calls (requests without tools). */
  sideReply?: string;
}

export interface RecordedRequest {
  method: string;
  /** Path with query (`/v1/messages?beta=true`). */
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** What the server answered with: `anthropic 0/2` (conversation/turn), `side`, `count_tokens`, `404`… */
  answer: string;
}

export interface AgentApiServerOptions {
  anthropic?: Script<AnthropicTurn>;
  openai?: Script<OpenAITurn>;
  /** `{{NAME}}` in fixture strings is replaced by `vars.NAME` (the workspace's absolute path, say). */
  vars?: Record<string, string>;
  /** Address to listen on. @defaultValue '127.0.0.1' */
  host?: string;
  /** @defaultValue 0 (any free port) */
  port?: number;
  /**
   * Also answer on this unix socket: a CLI in a sealed network namespace reaches the server through it
   * (a bridge inside the namespace forwards its loopback port there, as tsk's gateway bridge does).
   */
  socketPath?: string;
}

export interface AgentApiServer {
  /** `http://host:port`, without a trailing slash or `/v1`. */
  url: string;
  requests: RecordedRequest[];
  /** The recorded requests to the model endpoints (messages/responses), side calls included. */
  modelRequests(): RecordedRequest[];
  close(): Promise<void>;
}

const FIXTURES = fileURLToPath(new URL('./agent-api-fixtures/', import.meta.url));

/** A fixture script from `agent-api-fixtures/<name>.json`. */
export function loadAgentApiFixture<Turn>(name: string): Script<Turn> {
  return JSON.parse(readFileSync(`${FIXTURES}${name}.json`, 'utf8')) as Script<Turn>;
}

/**
 * A 429 as Anthropic sends it when the organisation's limit is hit, with the reset time in the
 * `anthropic-ratelimit-*-reset` headers and `retry-after`. `x-should-retry: false` makes the SDK give up at
 * once instead of retrying with backoff (it honours that header before its own retry rules).
 */
export function anthropicRateLimitTurn(resetAt: Date, times?: number): AnthropicTurn {
  const seconds = Math.max(1, Math.ceil((resetAt.getTime() - Date.now()) / 1000));
  return {
    times,
    error: {
      status: 429,
      headers: {
        'retry-after': String(seconds),
        'x-should-retry': 'false',
        'anthropic-ratelimit-requests-reset': resetAt.toISOString(),
        'anthropic-ratelimit-tokens-reset': resetAt.toISOString(),
        'anthropic-ratelimit-unified-status': 'rejected',
        'anthropic-ratelimit-unified-reset': String(Math.floor(resetAt.getTime() / 1000)),
        'request-id': 'req_tsk_rate_limited',
      },
      body: { type: 'error', error: { type: 'rate_limit_error', message: 'This request would exceed your rate limit. Please try again later.' } },
    },
  };
}

/**
 * A 429 as the OpenAI API sends it: `x-ratelimit-reset-*` as durations, `retry-after` in seconds, and the
 * `rate_limit_exceeded` error body.
 */
export function openaiRateLimitTurn(resetAt: Date, times?: number): OpenAITurn {
  const seconds = Math.max(1, Math.ceil((resetAt.getTime() - Date.now()) / 1000));
  return {
    times,
    error: {
      status: 429,
      headers: {
        'retry-after': String(seconds),
        'x-ratelimit-limit-requests': '500',
        'x-ratelimit-remaining-requests': '0',
        'x-ratelimit-reset-requests': `${seconds}s`,
        'x-ratelimit-reset-tokens': `${seconds}s`,
        'x-request-id': 'req_tsk_rate_limited',
      },
      body: {
        error: {
          type: 'requests',
          code: 'rate_limit_exceeded',
          param: null,
          message: `Rate limit reached for requests. Please try again in ${seconds}s.`,
        },
      },
    },
  };
}

type Json = Record<string, unknown>;

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The tool calls whose results a request carries back: Anthropic `tool_result` blocks (`tool_use_id`) and
 * OpenAI `*_output` items (`call_id`). The calls themselves are in the history too; only a result says
 * the client got past a turn.
 */
function collectResultIds(value: unknown, into = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const item of value) collectResultIds(item, into);
  else if (isRecord(value)) {
    if (value.type === 'tool_result' && typeof value.tool_use_id === 'string') into.add(value.tool_use_id);
    if (typeof value.type === 'string' && value.type.endsWith('_output') && typeof value.call_id === 'string') into.add(value.call_id);
    for (const child of Object.values(value)) collectResultIds(child, into);
  }
  return into;
}

/** The user-authored text of a request (Anthropic `messages` or OpenAI `input`), tool results left out. */
function userText(body: Json): string {
  const texts: string[] = [];
  const messages = Array.isArray(body.messages) ? body.messages : Array.isArray(body.input) ? body.input : [];
  for (const message of messages) {
    if (!isRecord(message) || message.role !== 'user') continue;
    if (typeof message.content === 'string') texts.push(message.content);
    else if (Array.isArray(message.content)) {
      for (const part of message.content) {
        if (isRecord(part) && (part.type === 'text' || part.type === 'input_text') && typeof part.text === 'string') texts.push(part.text);
      }
    }
  }
  return texts.join('\n');
}

function substitute<T>(value: T, vars: Record<string, string>): T {
  if (typeof value === 'string') return value.replace(/\{\{(\w+)\}\}/g, (whole, name: string) => vars[name] ?? whole) as T;
  if (Array.isArray(value)) return value.map((item: unknown) => substitute(item, vars)) as T;
  if (isRecord(value)) return Object.fromEntries(Object.entries(value).map(([key, child]) => [key, substitute(child, vars)])) as T;
  return value;
}

function turnIds(turn: AnthropicTurn | OpenAITurn): string[] {
  if ('content' in turn && turn.content) return turn.content.flatMap((block) => (block.type === 'tool_use' ? [block.id] : []));
  if ('output' in turn && turn.output) {
    return turn.output.flatMap((item) => (item.type === 'function_call' || item.type === 'custom_tool_call' ? [item.call_id] : []));
  }
  return [];
}

/** Picks turns for one script and counts how often each was served. */
class ScriptPlayer<Turn extends AnthropicTurn | OpenAITurn> {
  private readonly served = new Map<Turn, number>();

  constructor(private readonly script: Script<Turn>) {}

  get sideReply(): string {
    return this.script.sideReply ?? 'OK';
  }

  /** The turn for a request, with its position for the record; undefined when the script has run out. */
  next(body: Json): { turn: Turn; label: string } | undefined {
    const text = userText(body);
    const conversations = this.script.conversations;
    let index = conversations.findIndex((c) => c.match !== undefined && text.includes(c.match));
    if (index < 0) index = conversations.findIndex((c) => c.match === undefined);
    const conversation = conversations[index];
    if (!conversation) return undefined;
    const present = collectResultIds(body);
    for (const [position, turn] of conversation.turns.entries()) {
      const ids = turnIds(turn);
      const answered = ids.length > 0 && ids.every((id) => present.has(id));
      const usedUp = turn.times !== undefined && (this.served.get(turn) ?? 0) >= turn.times;
      if (answered || usedUp) continue;
      this.served.set(turn, (this.served.get(turn) ?? 0) + 1);
      return { turn, label: `${index}/${position}` };
    }
    return undefined;
  }
}

function sse(res: ServerResponse, events: readonly [string, Json][]): void {
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive' });
  for (const [name, data] of events) res.write(`event: ${name}\ndata: ${JSON.stringify(data)}\n\n`);
  res.end();
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

/** Split a string in two, so clients see a value arrive over several deltas as they do from the real API. */
function halves(text: string): string[] {
  const middle = Math.ceil(text.length / 2);
  return text.length < 2 ? [text] : [text.slice(0, middle), text.slice(middle)];
}

let counter = 0;
const nextId = (prefix: string) => `${prefix}_tsk${String(++counter).padStart(6, '0')}`;

/** A Messages API answer, streamed (message_start … message_stop) or as one JSON message. */
function answerAnthropic(res: ServerResponse, request: Json, turn: AnthropicTurn): void {
  const content = turn.content ?? [];
  const usage = turn.usage ?? { input_tokens: 100, output_tokens: 10 };
  const stopReason = content.some((block) => block.type === 'tool_use') ? 'tool_use' : 'end_turn';
  const message = {
    id: nextId('msg'),
    type: 'message',
    role: 'assistant',
    model: typeof request.model === 'string' ? request.model : 'claude-test',
    content: [] as AnthropicBlock[],
    stop_reason: null as string | null,
    stop_sequence: null,
    usage: { input_tokens: usage.input_tokens, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 1 },
  };
  if (request.stream !== true) {
    sendJson(res, 200, { ...message, content, stop_reason: stopReason, usage: { ...message.usage, output_tokens: usage.output_tokens } });
    return;
  }
  const events: [string, Json][] = [['message_start', { type: 'message_start', message }], ['ping', { type: 'ping' }]];
  for (const [index, block] of content.entries()) {
    if (block.type === 'text') {
      events.push(['content_block_start', { type: 'content_block_start', index, content_block: { type: 'text', text: '' } }]);
      for (const text of halves(block.text)) {
        events.push(['content_block_delta', { type: 'content_block_delta', index, delta: { type: 'text_delta', text } }]);
      }
    } else {
      events.push([
        'content_block_start',
        { type: 'content_block_start', index, content_block: { type: 'tool_use', id: block.id, name: block.name, input: {} } },
      ]);
      for (const partial_json of halves(JSON.stringify(block.input))) {
        events.push(['content_block_delta', { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json } }]);
      }
    }
    events.push(['content_block_stop', { type: 'content_block_stop', index }]);
  }
  events.push(
    ['message_delta', { type: 'message_delta', delta: { stop_reason: stopReason, stop_sequence: null }, usage: { output_tokens: usage.output_tokens } }],
    ['message_stop', { type: 'message_stop' }],
  );
  sse(res, events);
}

/** A Responses API answer, streamed (response.created … response.completed) or as one response object. */
function answerOpenAI(res: ServerResponse, request: Json, turn: OpenAITurn): void {
  const usage = turn.usage ?? { input_tokens: 100, output_tokens: 10 };
  const items: Json[] = (turn.output ?? []).map((item) => {
    switch (item.type) {
      case 'message':
        return {
          type: 'message',
          id: nextId('msg'),
          status: 'completed',
          role: 'assistant',
          content: [{ type: 'output_text', text: item.text, annotations: [] }],
        };
      case 'reasoning':
        return { type: 'reasoning', id: nextId('rs'), summary: [{ type: 'summary_text', text: item.summary }] };
      case 'function_call':
        return {
          type: 'function_call',
          id: nextId('fc'),
          status: 'completed',
          call_id: item.call_id,
          name: item.name,
          arguments: JSON.stringify(item.arguments),
        };
      case 'custom_tool_call':
        return { type: 'custom_tool_call', id: nextId('ctc'), status: 'completed', call_id: item.call_id, name: item.name, input: item.input };
    }
  });
  const response = {
    id: nextId('resp'),
    object: 'response',
    created_at: Math.floor(Date.now() / 1000),
    status: 'completed',
    model: typeof request.model === 'string' ? request.model : 'gpt-test',
    output: items,
    usage: {
      input_tokens: usage.input_tokens,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens: usage.output_tokens,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: usage.input_tokens + usage.output_tokens,
    },
  };
  if (request.stream !== true) {
    sendJson(res, 200, response);
    return;
  }
  let sequence_number = 0;
  const events: [string, Json][] = [];
  const push = (type: string, data: Json) => events.push([type, { type, sequence_number: sequence_number++, ...data }]);
  push('response.created', { response: { ...response, status: 'in_progress', output: [], usage: null } });
  push('response.in_progress', { response: { ...response, status: 'in_progress', output: [], usage: null } });
  for (const [output_index, item] of items.entries()) {
    const item_id = item.id;
    if (item.type === 'message') {
      const text = (turn.output?.[output_index] as { text: string }).text;
      push('response.output_item.added', { output_index, item: { ...item, status: 'in_progress', content: [] } });
      push('response.content_part.added', { output_index, item_id, content_index: 0, part: { type: 'output_text', text: '', annotations: [] } });
      for (const delta of halves(text)) push('response.output_text.delta', { output_index, item_id, content_index: 0, delta });
      push('response.output_text.done', { output_index, item_id, content_index: 0, text });
      push('response.content_part.done', { output_index, item_id, content_index: 0, part: { type: 'output_text', text, annotations: [] } });
    } else if (item.type === 'function_call') {
      push('response.output_item.added', { output_index, item: { ...item, status: 'in_progress', arguments: '' } });
      for (const delta of halves(String(item.arguments))) push('response.function_call_arguments.delta', { output_index, item_id, delta });
      push('response.function_call_arguments.done', { output_index, item_id, arguments: item.arguments });
    } else if (item.type === 'custom_tool_call') {
      push('response.output_item.added', { output_index, item: { ...item, status: 'in_progress', input: '' } });
      for (const delta of halves(String(item.input))) push('response.custom_tool_call_input.delta', { output_index, item_id, delta });
      push('response.custom_tool_call_input.done', { output_index, item_id, input: item.input });
    } else {
      push('response.output_item.added', { output_index, item });
    }
    push('response.output_item.done', { output_index, item });
  }
  push('response.completed', { response });
  sse(res, events);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseJson(text: string): Json {
  try {
    const value: unknown = JSON.parse(text);
    return isRecord(value) ? value : {};
  } catch {
    return {};
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Start the server; close it when the test ends. */
export async function startAgentApiServer(options: AgentApiServerOptions = {}): Promise<AgentApiServer> {
  const vars = options.vars ?? {};
  const anthropic = options.anthropic && new ScriptPlayer(substitute(options.anthropic, vars));
  const openai = options.openai && new ScriptPlayer(substitute(options.openai, vars));
  const requests: RecordedRequest[] = [];

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const path = req.url ?? '/';
    const pathname = path.split('?')[0] ?? '/';
    const record: RecordedRequest = { method: req.method ?? 'GET', path, headers: req.headers, body, answer: '404' };
    requests.push(record);
    const json = parseJson(body);

    if (req.method === 'POST' && pathname === '/v1/messages/count_tokens') {
      record.answer = 'count_tokens';
      sendJson(res, 200, { input_tokens: Math.ceil(body.length / 4) });
      return;
    }
    if (req.method === 'GET' && pathname === '/v1/models') {
      record.answer = 'models';
      // Anthropic clients send anthropic-version; the OpenAI list is the default.
      if (req.headers['anthropic-version']) {
        const data = [{ type: 'model', id: 'claude-test', display_name: 'Claude (test)', created_at: '2026-01-01T00:00:00Z' }];
        sendJson(res, 200, { data, has_more: false, first_id: 'claude-test', last_id: 'claude-test' });
      } else sendJson(res, 200, { object: 'list', data: [{ id: 'gpt-test', object: 'model', created: 0, owned_by: 'tsk' }] });
      return;
    }
    const model =
      req.method === 'POST' && pathname === '/v1/messages' && anthropic
        ? { player: anthropic, name: 'anthropic', answer: answerAnthropic }
        : req.method === 'POST' && pathname === '/v1/responses' && openai
          ? { player: openai, name: 'openai', answer: answerOpenAI }
          : undefined;
    if (!model) {
      const error = { type: 'not_found_error', message: `tsk test API server: no route for ${req.method ?? ''} ${pathname}` };
      sendJson(res, 404, { type: 'error', error });
      return;
    }
    // Codex's newer models get their tools as an `additional_tools` input item instead of `tools`.
    const hasTools =
      (Array.isArray(json.tools) && json.tools.length > 0) ||
      (Array.isArray(json.input) && json.input.some((item) => isRecord(item) && item.type === 'additional_tools'));
    const picked = hasTools ? model.player.next(json) : undefined;
    if (!picked) {
      record.answer = hasTools ? `${model.name} script exhausted` : 'side';
      const reply = hasTools ? 'The scripted task is over.' : model.player.sideReply;
      if (model.name === 'anthropic') answerAnthropic(res, json, { content: [{ type: 'text', text: reply }], usage: { input_tokens: 10, output_tokens: 5 } });
      else answerOpenAI(res, json, { output: [{ type: 'message', text: reply }], usage: { input_tokens: 10, output_tokens: 5 } });
      return;
    }
    record.answer = `${model.name} ${picked.label}`;
    const { turn } = picked;
    if (turn.delayMs) await sleep(turn.delayMs);
    if (turn.error) {
      sendJson(res, turn.error.status, turn.error.body, turn.error.headers);
      return;
    }
    if (model.name === 'anthropic') answerAnthropic(res, json, turn as AnthropicTurn);
    else answerOpenAI(res, json, turn as OpenAITurn);
  }

  const listener = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { type: 'error', error: { type: 'api_error', message: String(error) } });
      else res.destroy();
    });
  };
  const host = options.host ?? '127.0.0.1';
  const server = createServer(listener);
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(options.port ?? 0, host, resolve));
  const servers: Server[] = [server];
  if (options.socketPath) {
    const socketServer = createServer(listener);
    servers.push(socketServer);
    await new Promise<void>((resolve, reject) => socketServer.once('error', reject).listen(options.socketPath, resolve));
  }
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    requests,
    modelRequests: () => requests.filter((r) => r.path.startsWith('/v1/messages?') || r.path === '/v1/messages' || r.path.startsWith('/v1/responses')),
    close: async () => {
      await Promise.all(
        servers.map(
          (each) =>
            new Promise<void>((resolve) => {
              each.closeAllConnections();
              each.close(() => resolve());
            }),
        ),
      );
    },
  };
}
