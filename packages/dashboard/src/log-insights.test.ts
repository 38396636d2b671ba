import { describe, expect, it } from 'vitest';
// The page's own module (plain JavaScript served as is): what the task page reads out of a log.
import { LogInsights } from '../public/js/log-insights.js';

function read(lines: string[]): LogInsights {
  const insights = new LogInsights();
  for (const line of lines) insights.add(line);
  return insights;
}

describe('LogInsights (the task page reads todos and denials from the log as the CLI writes them)', () => {
  it('a TodoWrite list replaces the list before it; its marks give each todo a status', () => {
    const insights = read(['Todo list:', '  [ ] read', '  [ ] write', 'Read src/a.ts', 'Todo list:', '  [x] read', '  [~] write', '  [ ] test', '  [-] dropped', 'Bash: npm test']);
    expect(insights.todos).toEqual([
      { text: 'read', status: 'completed' },
      { text: 'write', status: 'in_progress' },
      { text: 'test', status: 'pending' },
      { text: 'dropped', status: 'deleted' },
    ]);
    expect(insights.progress()).toEqual({ done: 1, total: 3 });
  });

  it('TaskCreate/TaskUpdate lines add and update one todo each, by subject', () => {
    const insights = read(['Todo: [ ] port the parser', 'Todo: [ ] add tests', 'Todo: [~] port the parser', 'Todo: [x] port the parser']);
    expect(insights.todos).toEqual([
      { text: 'port the parser', status: 'completed' },
      { text: 'add tests', status: 'pending' },
    ]);
  });

  it('an indented line after the list ends is not a todo; sub-agent lines are not the task’s todos', () => {
    const insights = read(['Todo list:', '  [x] one', 'Edit a.ts', '  [ ] not a todo', '  | Todo: [ ] sub-agent work']);
    expect(insights.todos).toEqual([{ text: 'one', status: 'completed' }]);
  });

  it('collects the proxy’s denial lines and its closing summary, and nothing else', () => {
    const insights = read([
      'proxy denied CONNECT evil.example:443',
      'proxy denied GET http://x.example/<script>',
      'the proxy denied nothing here',
      'Proxy denied 2 request(s) of this task: evil.example, x.example',
    ]);
    expect(insights.denials).toEqual(['proxy denied CONNECT evil.example:443', 'proxy denied GET http://x.example/<script>']);
    expect(insights.denialSummary).toBe('Proxy denied 2 request(s) of this task: evil.example, x.example');
    expect(insights.todos).toEqual([]);
  });
});
