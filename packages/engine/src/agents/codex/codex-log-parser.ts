import type { AgentLogParser, AgentOutcome } from '../agent.js';

interface CodexItem {
  id?: string;
  type?: string;
  text?: string;
  message?: string;
  command?: string;
  exit_code?: number | null;
  status?: string;
  changes?: { path?: string; kind?: string }[];
  items?: { text?: string; completed?: boolean }[];
}

interface CodexUsage {
  input_tokens?: number;
  cached_input_tokens?: number;
  output_tokens?: number;
}

interface CodexEvent {
  type?: string;
  item?: CodexItem;
  usage?: CodexUsage;
  error?: { message?: string };
  message?: string;
}

/** `bash -lc '<command>'` as codex reports a shell call: the command the model asked for. */
function shownCommand(command: string): string {
  const wrapped = /^\S*\b(?:ba)?sh -l?c '([\s\S]*)'$/.exec(command);
  return wrapped?.[1] ?? command;
}

/**
 * Reads `codex exec --json` events (thread/turn/item) into readable lines and a token summary: messages,
 * shell commands with their exit code, file changes, the plan (`todo_list`, shown when it starts and when
 * it changes), errors (retries included) and each turn's tokens.
 */
export class CodexLogParser implements AgentLogParser {
  private result: AgentOutcome = { success: undefined, summary: undefined };
  private tokens = { input: 0, output: 0 };
  /** The last plan shown, by item id, so an unchanged plan is not repeated when its item completes. */
  private readonly plans = new Map<string, string>();

  parse(line: string): string[] {
    let event: CodexEvent;
    try {
      const parsed: unknown = JSON.parse(line);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return line.trim() ? [line] : [];
      event = parsed as CodexEvent;
    } catch {
      return line.trim() ? [line] : [];
    }
    switch (event.type) {
      case 'item.started':
      case 'item.updated':
        return event.item?.type === 'todo_list' ? this.planLines(event.item) : [];
      case 'item.completed':
        return event.item ? this.itemLines(event.item) : [];
      case 'turn.completed':
        // Counts are per turn; cached input is part of input_tokens.
        this.tokens.input += event.usage?.input_tokens ?? 0;
        this.tokens.output += event.usage?.output_tokens ?? 0;
        this.result = { success: true, summary: this.summary('Codex finished') };
        return [this.result.summary ?? ''];
      case 'turn.failed': {
        const reason = event.error?.message ?? event.message ?? 'unknown error';
        this.result = { success: false, summary: this.summary(`Codex failed: ${reason}`) };
        return [this.result.summary ?? ''];
      }
      case 'error':
        // A stream error codex retries ("Reconnecting... 2/5 (…)"); a fatal one is followed by turn.failed.
        return [`Codex error: ${event.message ?? event.error?.message ?? 'unknown error'}`];
      default:
        return [];
    }
  }

  outcome(): AgentOutcome {
    return { ...this.result, usage: { inputTokens: this.tokens.input, outputTokens: this.tokens.output } };
  }

  private summary(prefix: string): string {
    return `${prefix} (tokens: ${this.tokens.input} in, ${this.tokens.output} out)`;
  }

  private planLines(item: CodexItem): string[] {
    const lines = ['Todo list:', ...(item.items ?? []).map((todo) => `  ${todo.completed ? '[x]' : '[ ]'} ${todo.text ?? ''}`)];
    const key = lines.join('\n');
    if (item.id !== undefined && this.plans.get(item.id) === key) return [];
    if (item.id !== undefined) this.plans.set(item.id, key);
    return lines;
  }

  private itemLines(item: CodexItem): string[] {
    switch (item.type) {
      case 'agent_message':
      case 'reasoning':
        return item.text?.trim() ? [item.text.trim()] : [];
      case 'command_execution': {
        const exit = item.exit_code === undefined || item.exit_code === null ? '' : ` (exit ${item.exit_code})`;
        return [`-> shell: ${shownCommand(item.command ?? '')}${exit}`];
      }
      case 'file_change':
        return (item.changes ?? []).map((change) => `-> ${change.kind ?? 'edit'}: ${change.path ?? ''}`);
      case 'todo_list':
        return this.planLines(item);
      case 'error':
        return [`Codex error: ${item.message ?? 'unknown error'}`];
      default:
        return [];
    }
  }
}
