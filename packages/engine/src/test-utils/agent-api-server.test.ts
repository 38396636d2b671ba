import { afterEach, describe, expect, it } from 'vitest';
import { anthropicRateLimitTurn, loadAgentApiFixture, startAgentApiServer, type AgentApiServer, type AnthropicTurn, type OpenAITurn } from './agent-api-server.js';

let server: AgentApiServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const tools = [{ name: 'Bash', input_schema: { type: 'object' } }];

async function post(path: string, body: unknown): Promise<Response> {
  if (!server) throw new Error('no server');
  return fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': 'k' }, body: JSON.stringify(body) });
}

/** The SSE events of a streamed answer, by name. */
async function events(response: Response): Promise<{ event: string; data: Record<string, unknown> }[]> {
  const text = await response.text();
  return text
    .split('\n\n')
    .filter((chunk) => chunk.trim())
    .map((chunk) => {
      const [eventLine, dataLine] = chunk.split('\n');
      return { event: (eventLine ?? '').slice('event: '.length), data: JSON.parse((dataLine ?? '').slice('data: '.length)) as Record<string, unknown> };
    });
}

describe('agent API server', () => {
  it('should move through a conversation as tool results come back, and answer side calls apart', async () => {
    server = await startAgentApiServer({ anthropic: loadAgentApiFixture<AnthropicTurn>('claude-task'), vars: { WORKDIR: '/w' } });
    const first = await events(await post('/v1/messages?beta=true', { model: 'm', stream: true, tools, messages: [{ role: 'user', content: 'go' }] }));
    expect(first.map((e) => e.event)).toEqual([
      'message_start',
      'ping',
      'content_block_start',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'content_block_start',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    const json = first.filter((e) => e.event === 'content_block_delta').map((e) => (e.data.delta as { partial_json?: string }).partial_json ?? '').join('');
    expect(JSON.parse(json)).toEqual({ command: 'echo hello from the agent > /dev/null; ls', description: "List the repository's files" });
    expect(first.at(-2)?.data).toMatchObject({ delta: { stop_reason: 'tool_use' }, usage: { output_tokens: 60 } });

    // The same request again (a retry) gets the same turn; with the tool's result, the next one.
    const again = await events(await post('/v1/messages', { stream: true, tools, messages: [{ role: 'user', content: 'go' }] }));
    expect(again[6]?.data.content_block).toMatchObject({ id: 'toolu_tsk_bash' });
    const result = { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_tsk_bash', content: 'README.md' }] };
    const second = await (await post('/v1/messages', { tools, messages: [{ role: 'user', content: 'go' }, result] })).json();
    expect(second).toMatchObject({ content: [{ type: 'tool_use', id: 'toolu_tsk_toolsearch' }], stop_reason: 'tool_use' });

    // A sub-agent's prompt picks its own conversation; a request without tools is a side call.
    const sub = await (await post('/v1/messages', { tools, messages: [{ role: 'user', content: [{ type: 'text', text: 'SUB-AGENT: read it' }] }] })).json();
    expect(sub).toMatchObject({ content: [{ type: 'tool_use', input: { file_path: '/w/AGENT_NOTE.md' } }] });
    const side = await (await post('/v1/messages', { messages: [{ role: 'user', content: 'title?' }] })).json();
    expect(side).toMatchObject({ content: [{ type: 'text', text: 'OK' }] });

    expect(server.requests.map((r) => r.answer)).toEqual(['anthropic 1/0', 'anthropic 1/0', 'anthropic 1/1', 'anthropic 0/0', 'side']);
    expect(server.requests[0]?.headers['x-api-key']).toBe('k');
  });

  it('should answer a rate-limit turn with 429 and its headers `times` times, then go on; a slow turn after its delay', async () => {
    const resetAt = new Date(Date.now() + 60_000);
    server = await startAgentApiServer({
      anthropic: { conversations: [{ turns: [anthropicRateLimitTurn(resetAt, 1), { delayMs: 300, content: [{ type: 'text', text: 'late' }] }] }] },
    });
    const body = { tools, messages: [{ role: 'user', content: 'go' }] };
    const limited = await post('/v1/messages', body);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('x-should-retry')).toBe('false');
    expect(limited.headers.get('anthropic-ratelimit-unified-reset')).toBe(String(Math.floor(resetAt.getTime() / 1000)));
    expect(await limited.json()).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } });
    const started = Date.now();
    expect(await (await post('/v1/messages', body)).json()).toMatchObject({ content: [{ type: 'text', text: 'late' }] });
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });

  it('should stream Responses API events with the function call and the usage, and move on by its output', async () => {
    server = await startAgentApiServer({ openai: loadAgentApiFixture<OpenAITurn>('codex-task') });
    const body = { stream: true, tools: [{ type: 'function', name: 'exec_command' }], input: [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'go' }] }] };
    const first = await events(await post('/v1/responses', body));
    expect(first.map((e) => e.event)).toContain('response.function_call_arguments.done');
    const done = first.filter((e) => e.event === 'response.output_item.done').map((e) => e.data.item);
    expect(done).toMatchObject([{ type: 'message' }, { type: 'function_call', call_id: 'call_tsk_shell', name: 'exec_command' }]);
    expect(first.at(-1)).toMatchObject({ event: 'response.completed', data: { response: { usage: { input_tokens: 1200, output_tokens: 60 } } } });
    // The function call's output moves the script on (the call itself in the history does not).
    const history = [...body.input, { type: 'function_call', call_id: 'call_tsk_shell' }];
    const doneItems = async (input: unknown[]) =>
      (await events(await post('/v1/responses', { ...body, input }))).filter((e) => e.event === 'response.output_item.done').map((e) => e.data.item);
    expect(await doneItems(history)).toMatchObject([{ type: 'message' }, { call_id: 'call_tsk_shell' }]);
    const answered = [...history, { type: 'function_call_output', call_id: 'call_tsk_shell', output: 'README.md' }];
    expect(await doneItems(answered)).toMatchObject([{ type: 'function_call', call_id: 'call_tsk_plan1', name: 'update_plan' }]);
  });
});
