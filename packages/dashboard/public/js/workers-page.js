// The fleet (`/workers`): each live worker's name, host, labels, capacity, running tasks, last heartbeat
// and whether it is stopping (`tsk server stop` was sent: it takes no new task). Live from `/api/events`.
import { getJson } from './api.js';
import { el, replaceChildren, taskLink } from './dom.js';
import { formatAgo, formatTime } from './format.js';

const COLUMNS = ['Name', 'Host', 'Labels', 'Capacity', 'Running tasks', 'Last heartbeat', 'State', 'Version', 'Started'];

/** @param {HTMLElement} main */
export async function workersPage(main) {
  const body = el('tbody');
  const empty = el('p', { class: 'muted', id: 'no-workers' }, 'No worker is alive (start one with tsk server start).');
  replaceChildren(
    main,
    el('h1', {}, 'Workers'),
    el('div', { class: 'scroll' }, el('table', { class: 'workers' }, el('thead', {}, el('tr', {}, ...COLUMNS.map((column) => el('th', { scope: 'col' }, column)))), body)),
    empty,
  );
  const render = (workers) => {
    empty.hidden = workers.length > 0;
    replaceChildren(
      body,
      ...workers.map((worker) =>
        el(
          'tr',
          { 'data-worker': worker.name },
          el('td', {}, worker.name),
          el('td', {}, worker.host ?? '-'),
          el('td', {}, worker.labels.length > 0 ? worker.labels.join(', ') : '-'),
          el('td', { class: 'num' }, `${worker.running.length} / ${worker.concurrency ?? '?'}`),
          el('td', {}, ...worker.running.flatMap((id, index) => [index > 0 ? ', ' : null, taskLink(id)])),
          el('td', { title: worker.lastBeat ?? '' }, formatAgo(worker.sinceBeatMs)),
          el('td', {}, el('span', { class: `status worker-${worker.state === 'stopping' ? 'stopping' : 'running'}` }, worker.state)),
          el('td', {}, worker.version ?? '-'),
          el('td', {}, formatTime(worker.startedAt)),
        ),
      ),
    );
  };
  render((await getJson('/api/workers')).workers);
  const source = new EventSource('/api/events');
  source.addEventListener('workers', (event) => render(JSON.parse(event.data).workers));
  window.addEventListener('pagehide', () => source.close());
}
