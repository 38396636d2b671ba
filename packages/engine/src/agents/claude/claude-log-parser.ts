import type { AgentUsage } from '../../model/task-result.js';
import { isAgentSessionId, type AgentLogParser, type AgentOutcome } from '../agent.js';
import { estimateMessageCost, tokenCount } from './claude-pricing.js';

interface ContentBlock {
  type?: string;
  id?: string;
  text?: string;
  name?: string;
  input?: Record<string, unknown>;
  tool_use_id?: string;
  content?: unknown;
  is_error?: boolean;
}

interface MessageUsage {
  input_tokens?: number;
  output_tokens?: number;
  cache_creation_input_tokens?: number;
  cache_read_input_tokens?: number;
}

interface Message {
  id?: string;
  model?: string;
  content?: ContentBlock[] | string;
  usage?: MessageUsage;
}

interface TodoItem {
  content?: string;
  status?: string;
}

type ClaudeEvent = Record<string, unknown> & { type?: unknown; subtype?: unknown };

const TODO_MARK: Record<string, string> = { completed: '[x]', in_progress: '[~]', pending: '[ ]', deleted: '[-]' };
/** Sub-agents' lines are indented under the call that started them. */
const SUB_AGENT_PREFIX = '  | ';
/** The tools that start a sub-agent (`Task` was renamed `Agent`; init still lists `Task`). */
const SUB_AGENT_TOOLS = new Set(['Agent', 'Task']);

function clip(text: string, max = 120): string {
  const line = text.trim().split('\n')[0] ?? '';
  return line.length > max ? `${line.slice(0, max - 3)}...` : line;
}

/** Summarise a tool call's input in one short line (file path, command, pattern…). */
function describeToolInput(input: Record<string, unknown> | undefined): string {
  if (!input) return '';
  for (const key of ['file_path', 'path', 'command', 'pattern', 'url', 'query', 'description', 'subject', 'prompt']) {
    const value = input[key];
    if (typeof value === 'string') return clip(value);
  }
  return '';
}

/** Input tokens of a usage record, cached ones included: what the API processed. */
function inputTokens(usage: MessageUsage | undefined): number {
  return tokenCount(usage?.input_tokens) + tokenCount(usage?.cache_creation_input_tokens) + tokenCount(usage?.cache_read_input_tokens);
}

/**
 * The run's tokens from a `result` event: `modelUsage` (per model, sub-agents included) when present,
 * else `usage` (the main conversation only).
 */
function resultUsage(event: Record<string, unknown>): MessageUsage | undefined {
  const models = event.modelUsage;
  if (typeof models === 'object' && models !== null && Object.keys(models).length > 0) {
    const total = { input_tokens: 0, output_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
    for (const model of Object.values(models as Record<string, Record<string, unknown>>)) {
      total.input_tokens += tokenCount(model.inputTokens);
      total.output_tokens += tokenCount(model.outputTokens);
      total.cache_creation_input_tokens += tokenCount(model.cacheCreationInputTokens);
      total.cache_read_input_tokens += tokenCount(model.cacheReadInputTokens);
    }
    return total;
  }
  const usage = event.usage;
  return typeof usage === 'object' && usage !== null ? (usage as MessageUsage) : undefined;
}

/**
 * Reads Claude Code's `--output-format stream-json` events into readable lines and a final summary:
 * messages, tool calls with their main argument, the todo list (TodoWrite, or the TaskCreate/TaskUpdate
 * tools that replaced it), sub-agents (their own messages carry `parent_tool_use_id`), API retries, and
 * the `result` event (success, cost, duration, turns, usage).
 */
export class ClaudeLogParser implements AgentLogParser {
  private result: AgentOutcome = { success: undefined, summary: undefined };
  /**
   * Token counts so far, one entry per API message (its blocks arrive as separate events, each with the
   * usage of `message_start`: the input, but only 1 output token), and the characters of its blocks.
   */
  private readonly messageUsage = new Map<string, { model: string | undefined; usage: MessageUsage; chars: number }>();
  private finalUsage: AgentUsage | undefined;
  /** TaskCreate calls by tool_use id (their subject), then tasks by the id their result announced. */
  private readonly pendingTasks = new Map<string, string>();
  private readonly tasks = new Map<string, string>();
  /** The session id of the `system/init` event. */
  private sessionId: string | undefined;

  parse(line: string): string[] {
    let event: ClaudeEvent;
    try {
      const parsed: unknown = JSON.parse(line);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return line.trim() ? [line] : [];
      event = parsed as ClaudeEvent;
    } catch {
      return line.trim() ? [line] : [];
    }
    const prefix = typeof event.parent_tool_use_id === 'string' ? SUB_AGENT_PREFIX : '';
    switch (event.type) {
      case 'system':
        return this.systemLines(event);
      case 'assistant':
        return this.assistantLines(event.message as Message | undefined).map((text) => prefix + text);
      case 'user':
        return this.userLines(event.message as Message | undefined).map((text) => prefix + text);
      case 'result':
        return [this.recordResult(event)];
      default:
        return [];
    }
  }

  outcome(): AgentOutcome {
    return { ...this.result, usage: this.usage(), ...(this.sessionId !== undefined ? { sessionId: this.sessionId } : {}) };
  }

  /**
   * The agent's own totals once it reported them, else a running estimate from the messages seen so far
   * (published prices, {@link estimateMessageCost}): what a cost budget checks while the agent works.
   */
  private usage(): AgentUsage {
    if (this.finalUsage) return this.finalUsage;
    let input = 0;
    let output = 0;
    let cost = 0;
    for (const { model, usage, chars } of this.messageUsage.values()) {
      // stream-json never shows a message's final output count: estimate it at 4 characters a token.
      const outputTokens = Math.max(tokenCount(usage.output_tokens), Math.ceil(chars / 4));
      input += inputTokens(usage);
      output += outputTokens;
      cost += estimateMessageCost(model, { ...usage, output_tokens: outputTokens });
    }
    return { costUsd: cost, inputTokens: input, outputTokens: output };
  }

  private systemLines(event: ClaudeEvent): string[] {
    switch (event.subtype) {
      case 'init':
        // The first well-formed id: what a follow-up resumes (the agent's output decides nothing else).
        if (this.sessionId === undefined && isAgentSessionId(event.session_id)) this.sessionId = event.session_id;
        return [`Claude session started (model ${String(event.model ?? 'unknown')})`];
      case 'task_started':
        return [`Sub-agent started: ${String(event.description ?? '')}${typeof event.subagent_type === 'string' ? ` (${event.subagent_type})` : ''}`];
      case 'task_notification':
        return [`Sub-agent ${String(event.status ?? 'ended')}${typeof event.summary === 'string' ? `: ${clip(event.summary)}` : ''}`];
      case 'api_retry': {
        const delay = typeof event.retry_delay_ms === 'number' ? ` in ${(event.retry_delay_ms / 1000).toFixed(1)}s` : '';
        return [`API error ${String(event.error_status ?? '')} (${String(event.error ?? 'unknown')}), retry ${String(event.attempt)}/${String(event.max_retries)}${delay}`];
      }
      default:
        return [];
    }
  }

  private assistantLines(message: Message | undefined): string[] {
    const content = Array.isArray(message?.content) ? message.content : [];
    if (message?.id && message.usage) {
      const chars = content.reduce((sum, block) => sum + (block.text?.length ?? 0) + (block.input ? JSON.stringify(block.input).length : 0), 0);
      const seen = this.messageUsage.get(message.id);
      this.messageUsage.set(message.id, { model: message.model, usage: message.usage, chars: (seen?.chars ?? 0) + chars });
    }
    const lines: string[] = [];
    for (const block of content) {
      if (block.type === 'text' && block.text?.trim()) lines.push(block.text.trim());
      if (block.type === 'tool_use') lines.push(...this.toolUseLines(block));
    }
    return lines;
  }

  private toolUseLines(block: ContentBlock): string[] {
    const input = block.input;
    switch (block.name) {
      case 'TodoWrite':
        if (!Array.isArray(input?.todos)) break;
        return ['Todo list:', ...(input.todos as TodoItem[]).map((todo) => `  ${TODO_MARK[todo.status ?? ''] ?? '[ ]'} ${todo.content ?? ''}`)];
      case 'TaskCreate':
        if (typeof input?.subject !== 'string') break;
        if (block.id) this.pendingTasks.set(block.id, input.subject);
        return [`Todo: [ ] ${input.subject}`];
      case 'TaskUpdate': {
        const id = typeof input?.taskId === 'string' || typeof input?.taskId === 'number' ? String(input.taskId) : '';
        const subject = typeof input?.subject === 'string' ? input.subject : (this.tasks.get(id) ?? `task #${id}`);
        const mark = typeof input?.status === 'string' ? (TODO_MARK[input.status] ?? `[${input.status}]`) : '[~]';
        return [`Todo: ${mark} ${subject}`];
      }
      default:
        if (block.name && SUB_AGENT_TOOLS.has(block.name)) {
          const kind = typeof input?.subagent_type === 'string' ? ` (${input.subagent_type})` : '';
          return [`-> ${block.name}${kind}: ${describeToolInput(input)}`];
        }
    }
    const detail = describeToolInput(input);
    return [`-> ${block.name ?? 'tool'}${detail ? `: ${detail}` : ''}`];
  }

  /** Tool results: only failures are shown; a TaskCreate's result gives the id later updates use. */
  private userLines(message: Message | undefined): string[] {
    const content = Array.isArray(message?.content) ? message.content : [];
    const lines: string[] = [];
    for (const block of content) {
      if (block.type !== 'tool_result') continue;
      const text = typeof block.content === 'string' ? block.content : '';
      const subject = block.tool_use_id ? this.pendingTasks.get(block.tool_use_id) : undefined;
      const created = /^Task #(\S+) created/.exec(text);
      if (subject !== undefined && created?.[1]) this.tasks.set(created[1], subject);
      if (block.is_error === true) lines.push(`<- error: ${clip(text || 'tool failed')}`);
    }
    return lines;
  }

  private recordResult(event: ClaudeEvent): string {
    const success = event.subtype === 'success' && event.is_error !== true;
    const reason =
      typeof event.api_error_status === 'number'
        ? `API error ${event.api_error_status}`
        : String(event.subtype === 'success' ? (event.terminal_reason ?? 'error') : (event.subtype ?? 'error'));
    const parts = [success ? 'Claude finished successfully' : `Claude failed (${reason})`];
    if (typeof event.total_cost_usd === 'number') parts.push(`cost $${event.total_cost_usd.toFixed(4)}`);
    if (typeof event.duration_ms === 'number') parts.push(`${(event.duration_ms / 1000).toFixed(1)}s`);
    if (typeof event.num_turns === 'number') parts.push(`${event.num_turns} turns`);
    const usage = resultUsage(event);
    if (usage) parts.push(`tokens: ${inputTokens(usage)} in, ${tokenCount(usage.output_tokens)} out`);
    const summary = parts.join(', ');
    this.result = { success, summary };
    const running = this.usage();
    this.finalUsage = {
      costUsd: typeof event.total_cost_usd === 'number' ? event.total_cost_usd : running.costUsd,
      ...(usage ? { inputTokens: inputTokens(usage), outputTokens: tokenCount(usage.output_tokens) } : { inputTokens: running.inputTokens, outputTokens: running.outputTokens }),
    };
    return typeof event.result === 'string' && event.result.trim() ? `${summary}\n${event.result.trim()}` : summary;
  }
}
