import { describe, expect, it } from 'vitest';
import { ClaudeLogParser } from './claude/claude-log-parser.js';
import { CodexLogParser } from './codex/codex-log-parser.js';
import { getAgent } from './registry.js';

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
    expect(parser.outcome()).toEqual({ success: true, summary: 'Claude finished successfully, cost $0.1234, 65.0s, 7 turns' });
  });

  it('should report failure when the result is an error, and pass through non-JSON lines', () => {
    const parser = new ClaudeLogParser();
    expect(parser.parse('npm warn something')).toEqual(['npm warn something']);
    parser.parse(JSON.stringify({ type: 'result', subtype: 'error_max_turns', is_error: true }));
    expect(parser.outcome().success).toBe(false);
    expect(parser.outcome().summary).toContain('error_max_turns');
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
    expect(parser.outcome()).toEqual({ success: false, summary: 'Codex failed: rate limited (tokens: 0 in, 0 out)' });
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
