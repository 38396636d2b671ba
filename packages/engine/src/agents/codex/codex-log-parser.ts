import type { AgentLogParser, AgentOutcome } from '../agent.js';

interface CodexItem {
  type?: string;
  text?: string;
  command?: string;
  exit_code?: number;
  changes?: { path?: string; kind?: string }[];
  items?: { text?: string; completed?: boolean }[];
}

interface CodexUsage {
  input_tokens?: number;
  cached_input_tokens?: number;
  output_tokens?: number;
}

/** Reads `codex exec --json` events (thread/turn/item) into readable lines and a token summary. */
export class CodexLogParser implements AgentLogParser {
  private result: AgentOutcome = { success: undefined, summary: undefined };
  private tokens = { input: 0, output: 0 };

  parse(line: string): string[] {
    let event: { type?: string; item?: CodexItem; usage?: CodexUsage; error?: { message?: string }; message?: string };
    try {
      event = JSON.parse(line) as typeof event;
    } catch {
      return line.trim() ? [line] : [];
    }
    switch (event.type) {
      case 'item.completed':
        return event.item ? this.itemLines(event.item) : [];
      case 'turn.completed':
        this.tokens.input += event.usage?.input_tokens ?? 0;
        this.tokens.output += event.usage?.output_tokens ?? 0;
        this.result = { success: true, summary: this.summary('Codex finished') };
        return [this.result.summary ?? ''];
      case 'turn.failed':
      case 'error': {
        const reason = event.error?.message ?? event.message ?? 'unknown error';
        this.result = { success: false, summary: this.summary(`Codex failed: ${reason}`) };
        return [this.result.summary ?? ''];
      }
      default:
        return [];
    }
  }

  outcome(): AgentOutcome {
    return this.result;
  }

  private summary(prefix: string): string {
    return `${prefix} (tokens: ${this.tokens.input} in, ${this.tokens.output} out)`;
  }

  private itemLines(item: CodexItem): string[] {
    switch (item.type) {
      case 'agent_message':
      case 'reasoning':
        return item.text?.trim() ? [item.text.trim()] : [];
      case 'command_execution':
        return [`-> shell: ${item.command ?? ''}${item.exit_code === undefined ? '' : ` (exit ${item.exit_code})`}`];
      case 'file_change':
        return (item.changes ?? []).map((change) => `-> ${change.kind ?? 'edit'}: ${change.path ?? ''}`);
      case 'todo_list':
        return ['Todo list:', ...(item.items ?? []).map((todo) => `  ${todo.completed ? '[x]' : '[ ]'} ${todo.text ?? ''}`)];
      default:
        return [];
    }
  }
}
