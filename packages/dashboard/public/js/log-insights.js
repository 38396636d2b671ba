// What a task's page reads out of its log lines (pure: no DOM), the way the CLI writes them:
// - the todo list: the agent's parser writes `Todo list:` then one `  [x] item` line per todo (TodoWrite),
//   or `Todo: [~] subject` for one task of the TaskCreate/TaskUpdate tools
//   (engine agents/claude/claude-log-parser.ts; marks: [x] done, [~] in progress, [ ] pending, [-] deleted);
// - the proxy's denials: `proxy denied <METHOD> <target>` for each request, and the run's closing
//   `Proxy denied N request(s) of this task: hosts` (engine proxy/proxy-denials.ts).
// Sub-agents' lines (indented `  | `) are their own business: the task's progress is the main agent's list.

const MARKS = { x: 'completed', '~': 'in_progress', ' ': 'pending', '-': 'deleted' };
const LIST_HEAD = 'Todo list:';
const LIST_ITEM = /^ {2}\[(.)\] (.*)$/;
const SINGLE = /^Todo: \[(.{1,20}?)\] (.*)$/;
const DENIAL = /^proxy denied (\S+) (.*)$/;
const DENIAL_SUMMARY = /^Proxy denied \d+ request\(s\) of this task: /;

/** @typedef {{ text: string, status: string }} Todo */

export class LogInsights {
  constructor() {
    /** @type {Todo[]} */
    this.todos = [];
    /** @type {string[]} each denied request's line, as the log said it */
    this.denials = [];
    /** @type {string | null} the run's closing denial summary */
    this.denialSummary = null;
    /** Whether the lines since the last `Todo list:` are its items. */
    this.inList = false;
  }

  /**
   * Read one log line; true when the todo list or the denials changed.
   * @param {string} text
   */
  add(text) {
    if (text === LIST_HEAD) {
      this.todos = [];
      this.inList = true;
      return true;
    }
    if (this.inList) {
      const item = LIST_ITEM.exec(text);
      if (item) {
        this.todos.push({ text: item[2] ?? '', status: MARKS[item[1] ?? ' '] ?? 'pending' });
        return true;
      }
      this.inList = false;
    }
    const single = SINGLE.exec(text);
    if (single) {
      const mark = single[1] ?? ' ';
      const status = MARKS[mark] ?? mark;
      const subject = single[2] ?? '';
      const known = this.todos.find((todo) => todo.text === subject);
      if (known) known.status = status;
      else this.todos.push({ text: subject, status });
      return true;
    }
    if (DENIAL.test(text)) {
      this.denials.push(text);
      return true;
    }
    if (DENIAL_SUMMARY.test(text)) {
      this.denialSummary = text;
      return true;
    }
    return false;
  }

  /** Todos done out of those that count (a deleted one does not). */
  progress() {
    const counted = this.todos.filter((todo) => todo.status !== 'deleted');
    return { done: counted.filter((todo) => todo.status === 'completed').length, total: counted.length };
  }
}
