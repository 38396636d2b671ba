import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { AgentLogParser } from './agent.js';
import { ClaudeLogParser } from './claude/claude-log-parser.js';
import { CodexLogParser } from './codex/codex-log-parser.js';
import { getAgent } from './registry.js';

/**
 * Feed a parser a captured output (`fixtures/`: what the real CLIs printed, driven by
 * test-utils/agent-api-server.ts; see real-agents.int.test.ts) and return its lines.
 */
function render(parser: AgentLogParser, fixture: string): string[] {
  const text = readFileSync(new URL(`./fixtures/${fixture}`, import.meta.url), 'utf8');
  return text.split('\n').filter((line) => line.trim()).flatMap((line) => parser.parse(line));
}

describe('ClaudeLogParser', () => {
  it('should render messages, tool calls and todo lists, and report the final result', () => {
    const parser = new ClaudeLogParser();
    const lines = [
      { type: 'system', subtype: 'init', model: 'claude-x' },
      { type: 'assistant', message: { content: [{ type: 'text', text: 'Looking at the code.' }] } },
      { type: 'assistant', message: { content: [{ type: 'tool_use', name: 'Read', input: { file_path: 'src/a.ts' } }] } },
      {
        type: 'assistant',
        message: {
          content: [{ type: 'tool_use', name: 'TodoWrite', input: { todos: [{ content: 'write test', status: 'completed' }, { content: 'fix bug', status: 'pending' }] } }],
        },
      },
      { type: 'user', message: { content: [{ type: 'tool_result', content: 'file text' }] } },
      { type: 'result', subtype: 'success', is_error: false, total_cost_usd: 0.1234, duration_ms: 65_000, num_turns: 7, result: 'Done.' },
    ].flatMap((event) => parser.parse(JSON.stringify(event)));
    expect(lines).toEqual([
      'Claude session started (model claude-x)',
      'Looking at the code.',
      '-> Read: src/a.ts',
      'Todo list:',
      '  [x] write test',
      '  [ ] fix bug',
      'Claude finished successfully, cost $0.1234, 65.0s, 7 turns\nDone.',
    ]);
    expect(parser.outcome()).toEqual({
      success: true,
      summary: 'Claude finished successfully, cost $0.1234, 65.0s, 7 turns',
      usage: { costUsd: 0.1234, inputTokens: 0, outputTokens: 0 },
    });
  });

  it('should report failure when the result is an error, and pass through non-JSON lines', () => {
    const parser = new ClaudeLogParser();
    expect(parser.parse('npm warn something')).toEqual(['npm warn something']);
    parser.parse(JSON.stringify({ type: 'result', subtype: 'error_max_turns', is_error: true }));
    expect(parser.outcome().success).toBe(false);
    expect(parser.outcome().summary).toContain('error_max_turns');
  });
});

describe('ClaudeLogParser on real Claude Code 2.1.332 output', () => {
  it('should render the scripted task: command, todo list, file, sub-agent and its messages, summary with cost', () => {
    const parser = new ClaudeLogParser();
    expect(render(parser, 'claude-stream.jsonl')).toEqual([
      'Claude session started (model claude-opus-5-5)',
      "I'll look at the repository first.",
      '-> Bash: echo hello from the agent > /dev/null; ls',
      '-> ToolSearch: select:TaskCreate,TaskUpdate',
      'Todo: [ ] Write AGENT_NOTE.md',
      'Todo: [ ] Check the note with a sub-agent',
      '-> Write: /tmp/agx/repo/AGENT_NOTE.md',
      'Todo: [x] Write AGENT_NOTE.md',
      '-> Agent (general-purpose): Check the note',
      'Sub-agent started: Check the note (general-purpose)',
      '  | -> Read: /tmp/agx/repo/AGENT_NOTE.md',
      'Sub-agent completed: The note\'s first line is "# Agent note".',
      'Todo: [x] Check the note with a sub-agent',
      'Done: I listed the repository, wrote AGENT_NOTE.md and had a sub-agent confirm its first line.',
      'Claude finished successfully, cost $0.0648, 2.2s, 9 turns, tokens: 13900 in, 460 out\n' +
        'Done: I listed the repository, wrote AGENT_NOTE.md and had a sub-agent confirm its first line.',
    ]);
    // modelUsage counts the sub-agent's messages too (the result's usage only the main conversation's).
    expect(parser.outcome()).toEqual({
      success: true,
      summary: 'Claude finished successfully, cost $0.0648, 2.2s, 9 turns, tokens: 13900 in, 460 out',
      usage: { costUsd: 0.0648, inputTokens: 13900, outputTokens: 460 },
      sessionId: 'b12eed9a-8b8d-4cb3-8c17-e1973af24f45',
    });
  });

  it('should sum the tokens of the messages seen while the agent runs, each API message once', () => {
    const parser = new ClaudeLogParser();
    const text = readFileSync(new URL('./fixtures/claude-stream.jsonl', import.meta.url), 'utf8');
    const lines = text.split('\n').filter((line) => line.trim() && !line.includes('"type":"result"'));
    for (const line of lines) parser.parse(line);
    // The fixture's turns: 1200+1300+1500+1700+1900+2100+2300 main, 900+1000 sub-agent (its last message
    // never reaches stream-json, only its summary does).
    expect(parser.outcome().usage?.inputTokens).toBe(12900);
    // Output counts are not in stream-json until the result: estimated from the text, more than 1 a message.
    expect(parser.outcome().usage?.outputTokens).toBeGreaterThan(100);
    // Priced as Opus 5 (5 $ in, 25 $ out per million): at least the input's 12900 tokens.
    expect(parser.outcome().usage?.costUsd).toBeGreaterThan(0.0645);
    expect(parser.outcome().success).toBeUndefined();
  });

  it('should report an API rate limit (429 with x-should-retry: false) as a failure, even with subtype success', () => {
    const parser = new ClaudeLogParser();
    const lines = render(parser, 'claude-rate-limited.jsonl');
    expect(lines).toContain('API Error: Request rejected (429) · This request would exceed your rate limit. Please try again later.');
    expect(parser.outcome().success).toBe(false);
    expect(parser.outcome().summary).toMatch(/^Claude failed \(API error 429\)/);
  });

  it('should show the API retries Claude makes on its own', () => {
    expect(render(new ClaudeLogParser(), 'claude-api-retry.jsonl')).toEqual([
      'API error 429 (rate_limit), retry 1/10 in 1.2s',
      'API error 429 (rate_limit), retry 2/10 in 1.2s',
    ]);
  });
});

describe('CodexLogParser', () => {
  it('should render items and sum tokens over turns', () => {
    const parser = new CodexLogParser();
    const lines = [
      { type: 'thread.started', thread_id: 't' },
      { type: 'item.completed', item: { type: 'agent_message', text: 'Plan: edit a.ts' } },
      { type: 'item.completed', item: { type: 'command_execution', command: 'npm test', exit_code: 0 } },
      { type: 'item.completed', item: { type: 'file_change', changes: [{ path: 'a.ts', kind: 'update' }] } },
      { type: 'turn.completed', usage: { input_tokens: 100, output_tokens: 20 } },
    ].flatMap((event) => parser.parse(JSON.stringify(event)));
    expect(lines).toEqual(['Plan: edit a.ts', '-> shell: npm test (exit 0)', '-> update: a.ts', 'Codex finished (tokens: 100 in, 20 out)']);
    expect(parser.outcome().success).toBe(true);
  });

  it('should report a failed turn', () => {
    const parser = new CodexLogParser();
    parser.parse(JSON.stringify({ type: 'turn.failed', error: { message: 'rate limited' } }));
    expect(parser.outcome()).toEqual({
      success: false,
      summary: 'Codex failed: rate limited (tokens: 0 in, 0 out)',
      usage: { inputTokens: 0, outputTokens: 0 },
    });
  });

  it('should render the real codex 0.171 output of the scripted task: message, shell command, plan, file, summary', () => {
    const parser = new CodexLogParser();
    expect(render(parser, 'codex-exec.jsonl')).toEqual([
      "I'll look at the repository first.",
      '-> shell: echo hello from the agent > /dev/null; ls (exit 0)',
      'Todo list:',
      '  [ ] Write AGENT_NOTE.md',
      '  [ ] Summarise the work',
      '-> add: /tmp/agx/repo/AGENT_NOTE.md',
      'Todo list:',
      '  [x] Write AGENT_NOTE.md',
      '  [x] Summarise the work',
      'Done: I listed the repository and wrote AGENT_NOTE.md.',
      'Codex finished (tokens: 7600 in, 260 out)',
    ]);
    expect(parser.outcome()).toEqual({
      success: true,
      summary: 'Codex finished (tokens: 7600 in, 260 out)',
      usage: { inputTokens: 7600, outputTokens: 260 },
    });
  });

  it('should report the real rate-limit failure (429, retries off) as a failed turn', () => {
    const parser = new CodexLogParser();
    const lines = render(parser, 'codex-rate-limited.jsonl');
    expect(lines[0]).toBe('Codex error: exceeded retry limit, last status: 429 Too Many Requests, request id: req_tsk_rate_limited');
    expect(parser.outcome().success).toBe(false);
    expect(parser.outcome().summary).toContain('429 Too Many Requests');
  });
});

describe('agent registry', () => {
  it('should give the documented command lines', () => {
    expect(getAgent('script').command()).toEqual(['bash', '-e', '/tsk/instructions.md']);
    expect(getAgent('claude').command().join(' ')).toContain('claude -p --verbose --output-format stream-json --dangerously-skip-permissions');
    expect(getAgent('codex').command().join(' ')).toContain('codex exec --dangerously-bypass-approvals-and-sandbox --json');
  });

  it('should reject an unknown agent naming the known ones', () => {
    expect(() => getAgent('gpt')).toThrow(/Unknown agent "gpt"/);
  });
});
