// The task list (`/`): every task, grouped by state, filtered by project, state, agent and person (kept
// in the URL's query), live from `/api/events`. Built for thousands of tasks: the first event's rows are
// built once into fragments, later events touch only the rows of the tasks they name, and a filter change
// only flips `hidden` on rows that exist.
import { el, notice, replaceChildren, taskLink } from './dom.js';
import { formatCost, GROUPS, groupOf, STATUSES, taskDuration } from './format.js';

/** The filters, the task field each reads, and its label. */
const FILTERS = [
  { key: 'project', field: 'project', label: 'Project' },
  { key: 'state', field: 'status', label: 'State' },
  { key: 'agent', field: 'agent', label: 'Agent' },
  { key: 'person', field: 'queuedBy', label: 'Queued by' },
];

const COLUMNS = ['ID', 'Name', 'State', 'Project', 'Type', 'Agent', 'Queued by', 'Worker', 'Duration', 'Cost / tokens', 'Branch'];

/**
 * @typedef {{ task: any, row: HTMLTableRowElement, group: string, json: string, duration: HTMLElement }} Entry
 */

/** @param {HTMLElement} main */
export function tasksPage(main) {
  const query = new URLSearchParams(window.location.search);
  /** @type {Record<string, string>} */
  const filters = Object.fromEntries(FILTERS.map((filter) => [filter.key, query.get(filter.key) ?? '']));
  /** @type {Map<string, Entry>} */
  const entries = new Map();
  /** Values seen per filter (the options of its select), with how many tasks carry each. */
  const seen = Object.fromEntries(FILTERS.map((filter) => [filter.key, new Map()]));

  const selects = {};
  const form = el('form', { class: 'filters', 'aria-label': 'Filter tasks' });
  for (const filter of FILTERS) {
    const select = el('select', { id: `filter-${filter.key}`, name: filter.key }, el('option', { value: '' }, 'all'));
    if (filter.key === 'state') for (const status of STATUSES) select.append(el('option', { value: status }, status.toLowerCase()));
    selects[filter.key] = select;
    select.addEventListener('change', () => {
      filters[filter.key] = select.value;
      applyFilters();
    });
    form.append(el('label', { for: `filter-${filter.key}` }, filter.label), select);
  }
  const clear = el('button', { type: 'button', class: 'link' }, 'clear filters');
  clear.addEventListener('click', () => {
    for (const filter of FILTERS) filters[filter.key] = '';
    syncSelects();
    applyFilters();
  });
  form.append(clear);
  form.addEventListener('submit', (event) => event.preventDefault());

  const total = el('p', { class: 'muted', id: 'task-total' }, 'Waiting for the first update…');
  /** @type {Record<string, { section: HTMLElement, body: HTMLTableSectionElement, count: HTMLElement, empty: HTMLElement, table: HTMLElement }>} */
  const groups = {};
  const sections = GROUPS.map((group) => {
    const count = el('span', { class: 'count' });
    const body = /** @type {HTMLTableSectionElement} */ (el('tbody'));
    const empty = el('p', { class: 'muted empty' }, 'No tasks.');
    const table = el(
      'table',
      { class: 'tasks', 'data-group': group.key },
      el('thead', {}, el('tr', {}, ...COLUMNS.map((column) => el('th', { scope: 'col' }, column)))),
      body,
    );
    const scroll = el('div', { class: 'scroll' }, table);
    const section = el('section', { class: `group group-${group.key}`, 'aria-labelledby': `group-${group.key}` }, el('h2', { id: `group-${group.key}` }, group.title, ' ', count), scroll, empty);
    groups[group.key] = { section, body, count, empty, table: scroll };
    return section;
  });
  replaceChildren(main, el('h1', {}, 'Tasks'), form, total, ...sections);
  syncSelects();

  /** Build a task's row; its cells hold text only. */
  function buildRow(task) {
    const duration = el('td', { class: 'num' }, taskDuration(task));
    const status = el('td', {}, el('span', { class: `status status-${String(task.status).toLowerCase()}` }, String(task.status).toLowerCase()));
    const why = task.error ?? task.note ?? (task.delayedUntil ? `until ${task.delayedUntil}` : null);
    if (why) status.setAttribute('title', why);
    const row = /** @type {HTMLTableRowElement} */ (
      el(
        'tr',
        { 'data-id': task.id },
        el('td', {}, taskLink(task.id)),
        el('td', { class: 'name' }, task.name),
        status,
        el('td', {}, task.project),
        el('td', {}, task.type),
        el('td', {}, task.agent),
        el('td', {}, task.queuedBy ?? '-'),
        el('td', {}, task.worker ?? '-'),
        duration,
        el('td', { class: 'num' }, formatCost(task)),
        el('td', { class: 'branch' }, task.branch ?? '-'),
      )
    );
    row.hidden = !matches(task);
    return { row, duration };
  }

  function matches(task) {
    for (const filter of FILTERS) {
      const wanted = filters[filter.key];
      if (wanted && (task[filter.field] ?? '') !== wanted) return false;
    }
    return true;
  }

  /** Count a task's filter values in or out; true when a select's options must change. */
  function countValues(task, delta) {
    let changed = false;
    for (const filter of FILTERS) {
      if (filter.key === 'state') continue;
      const value = task[filter.field];
      if (typeof value !== 'string' || value === '') continue;
      const values = seen[filter.key];
      const next = (values.get(value) ?? 0) + delta;
      if (next <= 0) {
        values.delete(value);
        changed = true;
      } else {
        if (!values.has(value)) changed = true;
        values.set(value, next);
      }
    }
    return changed;
  }

  /** The selects' options: every value seen, plus the one the URL asks for even if no task has it yet. */
  function syncSelects() {
    for (const filter of FILTERS) {
      const select = selects[filter.key];
      if (filter.key !== 'state') {
        const values = [...seen[filter.key].keys()];
        if (filters[filter.key] && !values.includes(filters[filter.key])) values.push(filters[filter.key]);
        values.sort();
        replaceChildren(select, el('option', { value: '' }, 'all'), ...values.map((value) => el('option', { value }, value)));
      }
      select.value = filters[filter.key];
    }
  }

  /** Newest first within a group. */
  function before(a, b) {
    return a.createdAt > b.createdAt || (a.createdAt === b.createdAt && a.id > b.id);
  }

  /** Put a row into its group's table at its place. */
  function place(entry) {
    const body = groups[entry.group].body;
    for (let row = body.firstElementChild; row; row = row.nextElementSibling) {
      const other = entries.get(row.getAttribute('data-id') ?? '');
      if (other && other !== entry && before(entry.task, other.task)) {
        body.insertBefore(entry.row, row);
        return;
      }
    }
    body.appendChild(entry.row);
  }

  function upsert(task) {
    const json = JSON.stringify(task);
    const known = entries.get(task.id);
    if (known && known.json === json) return false;
    const { row, duration } = buildRow(task);
    const entry = { task, row, duration, json, group: groupOf(task.status) };
    let optionsChanged = countValues(task, 1);
    if (known) {
      optionsChanged = countValues(known.task, -1) || optionsChanged;
      if (known.group === entry.group) known.row.replaceWith(row);
      else known.row.remove();
    }
    entries.set(task.id, entry);
    if (!known || known.group !== entry.group) place(entry);
    return optionsChanged;
  }

  function remove(id) {
    const known = entries.get(id);
    if (!known) return false;
    known.row.remove();
    entries.delete(id);
    return countValues(known.task, -1);
  }

  /** Replace the whole list (the stream's first event): rows built into one fragment per group. */
  function replaceAll(tasks) {
    entries.clear();
    for (const filter of FILTERS) seen[filter.key].clear();
    const sorted = [...tasks].sort((a, b) => (before(a, b) ? -1 : before(b, a) ? 1 : 0));
    const fragments = Object.fromEntries(GROUPS.map((group) => [group.key, document.createDocumentFragment()]));
    for (const task of sorted) {
      const { row, duration } = buildRow(task);
      const entry = { task, row, duration, json: JSON.stringify(task), group: groupOf(task.status) };
      entries.set(task.id, entry);
      countValues(task, 1);
      fragments[entry.group].appendChild(row);
    }
    for (const group of GROUPS) replaceChildren(groups[group.key].body, fragments[group.key]);
    syncSelects();
  }

  function updateCounts() {
    const visible = Object.fromEntries(GROUPS.map((group) => [group.key, 0]));
    const all = Object.fromEntries(GROUPS.map((group) => [group.key, 0]));
    for (const entry of entries.values()) {
      all[entry.group] += 1;
      if (!entry.row.hidden) visible[entry.group] += 1;
    }
    const filtered = FILTERS.some((filter) => filters[filter.key]);
    let shown = 0;
    for (const group of GROUPS) {
      const { count, empty, table } = groups[group.key];
      shown += visible[group.key];
      count.textContent = filtered ? `(${visible[group.key]} of ${all[group.key]})` : `(${all[group.key]})`;
      empty.hidden = visible[group.key] > 0;
      // An empty group says so instead of showing a table of headers only.
      table.hidden = !empty.hidden;
    }
    total.textContent = filtered ? `${shown} of ${entries.size} tasks match the filters.` : `${entries.size} tasks.`;
  }

  function applyFilters() {
    for (const entry of entries.values()) {
      const hidden = !matches(entry.task);
      if (entry.row.hidden !== hidden) entry.row.hidden = hidden;
    }
    updateCounts();
    const next = new URLSearchParams();
    for (const filter of FILTERS) if (filters[filter.key]) next.set(filter.key, filters[filter.key]);
    const search = next.toString();
    window.history.replaceState(null, '', search ? `/?${search}` : '/');
    document.body.dataset.filterApplied = String(performance.now());
  }

  // What the browser test reads: when the data arrived and when its rows were on the page.
  const timing = { events: 0, lastReceivedAt: 0, lastRenderedAt: 0, lastRenderMs: 0, rows: 0 };
  window.tskTiming = timing;

  const source = new EventSource('/api/events');
  source.addEventListener('tasks', (event) => {
    const receivedAt = performance.now();
    /** @type {{ full: boolean, changed: any[], removed: string[] }} */
    const data = JSON.parse(event.data);
    let optionsChanged = false;
    if (data.full) replaceAll(data.changed);
    else {
      for (const task of data.changed) optionsChanged = upsert(task) || optionsChanged;
      for (const id of data.removed) optionsChanged = remove(id) || optionsChanged;
    }
    if (optionsChanged) syncSelects();
    updateCounts();
    timing.events += 1;
    timing.rows = entries.size;
    timing.lastReceivedAt = receivedAt;
    // Rendered once the browser has laid the rows out: the frame after they were added.
    requestAnimationFrame(() => {
      timing.lastRenderedAt = performance.now();
      timing.lastRenderMs = timing.lastRenderedAt - receivedAt;
      document.body.dataset.tasksRendered = String(timing.events);
    });
  });
  source.addEventListener('open', () => notice(''));
  source.addEventListener('error', () => {
    if (source.readyState !== EventSource.OPEN) notice('Lost the live updates; reconnecting…', 'warn');
  });

  // Running tasks' durations tick; only their cells are touched.
  const ticker = window.setInterval(() => {
    const now = Date.now();
    for (const entry of entries.values()) {
      if (entry.group === 'running' && !entry.row.hidden) entry.duration.textContent = taskDuration(entry.task, now);
    }
  }, 1000);
  window.addEventListener('pagehide', () => {
    window.clearInterval(ticker);
    source.close();
  });
}
