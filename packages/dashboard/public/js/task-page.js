// A task's page (`/tasks/:id`): its facts, the live log (`/api/tasks/:id/log`, following while the reader
// is at the bottom), the todo progress and proxy denials read from that log, the summary, the chain, the
// diff of its branch, and the actions (each confirmed, each the CLI's engine call on the server).
import { ApiError, getJson, sendJson, taskPath } from './api.js';
import { confirmAction } from './dialog.js';
import { el, notice, replaceChildren, taskLink } from './dom.js';
import { formatCost, formatTime, isTerminal, taskDuration } from './format.js';
import { LogInsights } from './log-insights.js';

/** Lines kept on the page; older ones go (the server caps a task's log too). */
const MAX_LINES = 20_000;

/** @param {HTMLElement} main @param {string} id */
export async function taskPage(main, id) {
  let detail;
  try {
    detail = await getJson(taskPath(id));
  } catch (error) {
    replaceChildren(main, el('h1', {}, 'Task ', id), el('p', { class: 'error' }, error instanceof ApiError ? error.line : String(error)));
    return;
  }
  /** @type {any} */
  let task = detail.task;
  let children = detail.children;
  const parent = detail.parent;
  /** The commit whose diff the page offers (or undefined): a diff is offered once per result. */
  let diffShownFor;
  document.title = `${task.name} · tsk`;

  const heading = el('h1');
  const facts = el('dl', { class: 'facts' });
  const actions = el('div', { class: 'actions', role: 'group', 'aria-label': 'Actions' });
  const summary = el('section', { class: 'summary', 'aria-labelledby': 'summary-title' });
  const todoSection = el('section', { class: 'todos', 'aria-labelledby': 'todo-title', hidden: true });
  const denialSection = el('section', { class: 'denials', 'aria-labelledby': 'denial-title', hidden: true });
  const chain = el('section', { class: 'chain', 'aria-labelledby': 'chain-title' });
  const logBox = el('div', { class: 'log', id: 'log', role: 'log', tabindex: '0', 'aria-label': 'Task log' });
  const logState = el('span', { class: 'muted', id: 'log-state' }, 'connecting…');
  const follow = el('input', { type: 'checkbox', id: 'follow', checked: true });
  const diffSection = el('section', { class: 'diff', 'aria-labelledby': 'diff-title' });

  // Facts and what the log says on the side, the log and the diff in the wide column.
  replaceChildren(
    main,
    heading,
    el(
      'div',
      { class: 'task-layout' },
      el('div', { class: 'side' }, facts, actions, summary, todoSection, denialSection, chain),
      el(
        'div',
        { class: 'wide' },
        el(
          'section',
          { class: 'log-section', 'aria-labelledby': 'log-title' },
          el('h2', { id: 'log-title' }, 'Log ', logState),
          el('label', { class: 'follow' }, follow, ' follow the end'),
          logBox,
        ),
        diffSection,
      ),
    ),
  );

  function renderTask() {
    replaceChildren(heading, task.name, ' ', el('span', { class: 'muted' }, task.id), ' ', el('span', { class: `status status-${String(task.status).toLowerCase()}`, id: 'task-status' }, String(task.status).toLowerCase()));
    const rows = [
      ['Project', task.project],
      ['Type', task.type],
      ['Agent', task.agent],
      ['Stack', task.stack],
      ['Queued by', task.queuedBy ?? '-'],
      ['Worker', task.worker ?? '-'],
      ['Created', formatTime(task.createdAt)],
      ['Started', formatTime(task.startedAt)],
      ['Finished', formatTime(task.finishedAt)],
      ['Duration', taskDuration(task)],
      ['Cost / tokens', formatCost(task)],
      ['Branch', task.branch ?? '-'],
      ['Commit', task.commit ?? '-'],
    ];
    if (task.remote) rows.push(['Remote', task.remote], ['Result ref', task.resultRef ?? '-']);
    if (task.requires.length > 0) rows.push(['Requires', task.requires.join(', ')]);
    if (task.note) rows.push(['Waiting for', task.note]);
    if (task.delayedUntil) rows.push(['Delayed until', formatTime(task.delayedUntil)]);
    if (task.delays > 0) rows.push(['Rate-limit delays', String(task.delays)]);
    replaceChildren(facts, ...rows.flatMap(([term, value]) => [el('dt', {}, term), el('dd', {}, value)]));

    replaceChildren(summary, el('h2', { id: 'summary-title' }, 'Summary'));
    if (task.error) summary.append(el('p', { class: 'error', id: 'task-error' }, task.error));
    summary.append(el('p', { id: 'task-summary', class: task.summary ? '' : 'muted' }, task.summary ?? (isTerminal(task.status) ? 'No summary.' : 'Not finished yet.')));

    renderActions();
    renderChain();
  }

  function renderActions() {
    const buttons = [];
    if (!isTerminal(task.status)) buttons.push(actionButton('cancel', 'Cancel', `Cancel ${task.id}? A running task is stopped at once.`));
    if (isTerminal(task.status)) {
      buttons.push(actionButton('retry', 'Retry', `Queue a new task with the same instructions and settings as ${task.id}?`));
      buttons.push(actionButton('follow-up', 'Follow up', `Queue a follow-up of ${task.id}: it starts from its result, with its instructions and what it did.`, 'What should the follow-up do?'));
    }
    buttons.push(actionButton('delete', 'Delete', `Delete ${task.id}: its queue entry, log and workspace (a task still going is cancelled first). Its result branch stays.`));
    replaceChildren(actions, ...buttons);
  }

  /** A button that confirms, then POSTs (or DELETEs) the action. */
  function actionButton(action, label, message, prompt) {
    const button = el('button', { type: 'button', 'data-action': action, class: action === 'delete' ? 'danger' : '' }, label);
    button.addEventListener('click', async () => {
      const answer = await confirmAction({ title: `${label} ${task.id}`, message, confirm: label, prompt });
      if (answer === null) return;
      button.setAttribute('disabled', '');
      try {
        const result =
          action === 'delete' ? await sendJson(taskPath(task.id), {}, 'DELETE') : await sendJson(taskPath(task.id, `/${action}`), action === 'follow-up' ? { prompt: answer } : {});
        notice(result.message, 'ok');
        if ((action === 'retry' || action === 'follow-up') && result.task) window.location.assign(`/tasks/${encodeURIComponent(result.task.id)}`);
        else if (action === 'delete') window.location.assign('/');
        else if (result.task) {
          task = result.task;
          renderTask();
        }
      } catch (error) {
        notice(error instanceof ApiError ? error.line : String(error), 'error');
      } finally {
        button.removeAttribute('disabled');
      }
    });
    return button;
  }

  function renderChain() {
    replaceChildren(chain, el('h2', { id: 'chain-title' }, 'Chain'));
    const list = el('ul');
    if (parent) list.append(el('li', {}, 'After ', taskLink(parent.id), ` ${parent.name} (${String(parent.status).toLowerCase()})`));
    else if (task.parent) list.append(el('li', {}, 'After ', taskLink(task.parent)));
    for (const child of children) list.append(el('li', {}, 'Then ', taskLink(child.id), ` ${child.name} (${String(child.status).toLowerCase()})`));
    chain.append(list.childElementCount > 0 ? list : el('p', { class: 'muted' }, 'No parent or follow-on tasks.'));
  }

  renderTask();
  const insights = new LogInsights();
  followLog();
  watchTask();
  renderDiff();

  /** The log, live: lines added in batches once a frame, the view kept at the end while following. */
  function followLog() {
    /** @type {{ source: string, text: string }[]} */
    let pending = [];
    let scheduled = false;
    let opened = false;
    let insightsChanged = false;
    const source = new EventSource(taskPath(task.id, '/log'));
    follow.addEventListener('change', () => {
      if (follow.checked) logBox.scrollTop = logBox.scrollHeight;
    });
    logBox.addEventListener('scroll', () => {
      const atEnd = logBox.scrollTop + logBox.clientHeight >= logBox.scrollHeight - 4;
      if (follow.checked !== atEnd) follow.checked = atEnd;
    });
    const flush = () => {
      scheduled = false;
      const fragment = document.createDocumentFragment();
      for (const line of pending) fragment.appendChild(el('div', { class: `line src-${/^[a-z]+$/.test(line.source) ? line.source : 'tsk'}` }, line.text));
      pending = [];
      logBox.appendChild(fragment);
      while (logBox.childElementCount > MAX_LINES) logBox.firstElementChild?.remove();
      if (follow.checked) logBox.scrollTop = logBox.scrollHeight;
      if (insightsChanged) renderInsights();
      insightsChanged = false;
    };
    source.addEventListener('open', () => {
      // A reconnect replays the log from its start: begin again rather than show lines twice.
      if (opened) {
        replaceChildren(logBox);
        pending = [];
        Object.assign(insights, new LogInsights());
        insightsChanged = true;
      }
      opened = true;
      logState.textContent = 'live';
    });
    source.addEventListener('line', (event) => {
      const line = JSON.parse(event.data);
      pending.push(line);
      insightsChanged = insights.add(line.text) || insightsChanged;
      if (!scheduled) {
        scheduled = true;
        requestAnimationFrame(flush);
      }
    });
    source.addEventListener('end', (event) => {
      source.close();
      logState.textContent = 'ended';
      task = JSON.parse(event.data);
      renderTask();
      renderDiff();
    });
    source.addEventListener('error', () => {
      if (source.readyState === EventSource.CLOSED) logState.textContent = 'disconnected';
      else if (opened) logState.textContent = 'reconnecting…';
    });
    window.addEventListener('pagehide', () => source.close());
  }

  function renderInsights() {
    const { done, total } = insights.progress();
    todoSection.hidden = insights.todos.length === 0;
    replaceChildren(
      todoSection,
      el('h2', { id: 'todo-title' }, 'Todo ', el('span', { class: 'muted', id: 'todo-progress' }, `${done} of ${total} done`)),
      el('progress', { max: Math.max(total, 1), value: done, 'aria-labelledby': 'todo-title' }),
      el('ul', { class: 'todo-list' }, ...insights.todos.map((todo) => el('li', { class: `todo todo-${todo.status.replace(/[^a-z_]/g, '')}` }, todo.text))),
    );
    const denied = insights.denials.length;
    denialSection.hidden = denied === 0 && insights.denialSummary === null;
    replaceChildren(
      denialSection,
      el('h2', { id: 'denial-title' }, 'Proxy denials ', el('span', { class: 'muted' }, `(${denied})`)),
      insights.denialSummary ? el('p', {}, insights.denialSummary) : null,
      el('ul', { class: 'denial-list' }, ...insights.denials.map((line) => el('li', {}, line))),
    );
  }

  /** This task's and its children's changes, from the list's stream. */
  function watchTask() {
    const source = new EventSource('/api/events');
    source.addEventListener('tasks', (event) => {
      const data = JSON.parse(event.data);
      let changed = false;
      for (const next of data.changed) {
        if (next.id === task.id) {
          if (JSON.stringify(next) !== JSON.stringify(task)) changed = true;
          task = next;
        } else if (next.parent === task.id) {
          children = [...children.filter((child) => child.id !== next.id), next].sort((a, b) => (a.createdAt < b.createdAt ? -1 : 1));
          changed = true;
        }
      }
      if (data.removed.includes(task.id)) {
        notice(`Task ${task.id} was deleted.`, 'warn');
        source.close();
      }
      children = children.filter((child) => !data.removed.includes(child.id));
      if (changed) {
        renderTask();
        renderDiff();
      }
    });
    window.addEventListener('pagehide', () => source.close());
  }

  function renderDiff() {
    if (!isTerminal(task.status) || !task.commit) {
      replaceChildren(diffSection, el('h2', { id: 'diff-title' }, 'Diff'), el('p', { class: 'muted' }, isTerminal(task.status) ? 'No result commit.' : 'The diff shows once the task is done.'));
      return;
    }
    if (diffShownFor === task.commit) return;
    diffShownFor = task.commit;
    const show = el('button', { type: 'button', id: 'show-diff' }, 'Show the diff');
    replaceChildren(diffSection, el('h2', { id: 'diff-title' }, 'Diff'), show);
    show.addEventListener('click', async () => {
      show.setAttribute('disabled', '');
      try {
        const diff = await getJson(taskPath(task.id, '/diff'));
        replaceChildren(diffSection, el('h2', { id: 'diff-title' }, 'Diff ', el('span', { class: 'muted' }, `${diff.base.slice(0, 12)}..${diff.branch}`)), ...diffView(diff));
      } catch (error) {
        show.removeAttribute('disabled');
        diffSection.append(el('p', { class: 'error' }, error instanceof ApiError ? error.line : String(error)));
      }
    });
  }
}

/** A diff's file table and its patch, each line a text node in a span classed by its kind. */
export function diffView(diff) {
  const files = el(
    'table',
    { class: 'diff-files' },
    el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'File'), el('th', { scope: 'col' }, 'Added'), el('th', { scope: 'col' }, 'Removed'))),
    el(
      'tbody',
      {},
      ...diff.files.map((file) =>
        el('tr', {}, el('td', {}, file.path), el('td', { class: 'num add' }, file.binary ? 'binary' : `+${file.added}`), el('td', { class: 'num del' }, file.binary ? '' : `-${file.removed}`)),
      ),
    ),
  );
  const patch = el('pre', { class: 'patch', id: 'patch', tabindex: '0' });
  const fragment = document.createDocumentFragment();
  for (const line of diff.patch.split('\n')) {
    fragment.appendChild(el('span', { class: lineKind(line) }, line));
    fragment.appendChild(document.createTextNode('\n'));
  }
  patch.appendChild(fragment);
  return [files.querySelector('tbody')?.childElementCount ? files : el('p', { class: 'muted' }, 'No changes.'), patch, diff.truncated ? el('p', { class: 'warn' }, 'The diff is cut here: see the branch for the rest.') : null];
}

function lineKind(line) {
  if (line.startsWith('+++') || line.startsWith('---') || line.startsWith('diff ') || line.startsWith('index ')) return 'meta';
  if (line.startsWith('@@')) return 'hunk';
  if (line.startsWith('+')) return 'add';
  if (line.startsWith('-')) return 'del';
  return 'ctx';
}
