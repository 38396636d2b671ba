import type { AgentLogParser, AgentOutcome } from '../agent.js';

interface ContentBlock {
  type?: string;
  text?: string;
  name?: string;
  input?: Record<string, unknown>;
}

interface TodoItem {
  content?: string;
  status?: string;
}

const TODO_MARK: Record<string, string> = { completed: '[x]', in_progress: '[~]', pending: '[ ]' };

/** Summarise a tool call's input in one short line (file path, command, pattern…). */
function describeToolInput(input: Record<string, unknown> | undefined): string {
  if (!input) return '';
  for (const key of ['file_path', 'path', 'command', 'pattern', 'url', 'description']) {
    const value = input[key];
    if (typeof value === 'string') return value.length > 120 ? `${value.slice(0, 117)}...` : value;
  }
  return '';
}

/** Reads Claude Code's `--output-format stream-json` events into readable lines and a final summary. */
export class ClaudeLogParser implements AgentLogParser {
  private result: AgentOutcome = { success: undefined, summary: undefined };

  parse(line: string): string[] {
    let event: Record<string, unknown>;
    try {
      event = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return line.trim() ? [line] : [];
    }
    switch (event.type) {
      case 'system':
        return event.subtype === 'init' ? [`Claude session started (model ${String(event.model ?? 'unknown')})`] : [];
      case 'assistant':
        return this.assistantLines(event.message);
      case 'result':
        return [this.recordResult(event)];
      default:
        return [];
    }
  }

  outcome(): AgentOutcome {
    return this.result;
  }

  private assistantLines(message: unknown): string[] {
    const content = (message as { content?: ContentBlock[] } | undefined)?.content ?? [];
    const lines: string[] = [];
    for (const block of content) {
      if (block.type === 'text' && block.text?.trim()) lines.push(block.text.trim());
      if (block.type !== 'tool_use') continue;
      if (block.name === 'TodoWrite' && Array.isArray(block.input?.todos)) {
        lines.push('Todo list:');
        for (const todo of block.input.todos as TodoItem[]) {
          lines.push(`  ${TODO_MARK[todo.status ?? ''] ?? '[ ]'} ${todo.content ?? ''}`);
        }
      } else {
        const detail = describeToolInput(block.input);
        lines.push(`-> ${block.name ?? 'tool'}${detail ? `: ${detail}` : ''}`);
      }
    }
    return lines;
  }

  private recordResult(event: Record<string, unknown>): string {
    const success = event.subtype === 'success' && event.is_error !== true;
    const parts = [success ? 'Claude finished successfully' : `Claude failed (${String(event.subtype ?? 'error')})`];
    if (typeof event.total_cost_usd === 'number') parts.push(`cost $${event.total_cost_usd.toFixed(4)}`);
    if (typeof event.duration_ms === 'number') parts.push(`${(event.duration_ms / 1000).toFixed(1)}s`);
    if (typeof event.num_turns === 'number') parts.push(`${event.num_turns} turns`);
    const summary = parts.join(', ');
    this.result = { success, summary };
    return typeof event.result === 'string' && event.result.trim() ? `${summary}\n${event.result.trim()}` : summary;
  }
}
