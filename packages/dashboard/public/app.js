// The dashboard's page: one document that routes itself by path (the server answers every page path
// with index.html). Plain ES modules, no framework and no build step; the CSP allows only these files.
import { ApiError, getJson, sendJson } from './js/api.js';
import { el, notice, replaceChildren } from './js/dom.js';
import { newTaskPage } from './js/new-page.js';
import { taskPage } from './js/task-page.js';
import { tasksPage } from './js/tasks-page.js';
import { workersPage } from './js/workers-page.js';

async function route(main) {
  const path = window.location.pathname;
  const task = /^\/tasks\/([^/]+)\/?$/.exec(path);
  if (path === '/' || path === '') return mark('tasks', () => tasksPage(main));
  if (task) return mark('tasks', () => taskPage(main, decodeURIComponent(task[1] ?? '')));
  if (path === '/new') return mark('new', () => newTaskPage(main));
  if (path === '/workers') return mark('workers', () => workersPage(main));
  replaceChildren(main, el('h1', {}, 'Not found'), el('p', {}, el('a', { href: '/' }, 'The task list')));
}

/** Show which page the navigation is on, then render it. */
function mark(name, render) {
  for (const link of document.querySelectorAll('nav a[data-nav]')) {
    if (link.getAttribute('data-nav') === name) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  return render();
}

async function showSession() {
  try {
    const session = await getJson('/api/session');
    const signer = document.getElementById('signer');
    if (signer) replaceChildren(signer, 'acting as ', el('strong', {}, session.signer));
  } catch {
    // The page itself says what went wrong; the header just stays empty.
  }
}

function wireLogout() {
  const button = document.getElementById('logout');
  if (!button) return;
  // Logging out ends the session cookie (a dashboard without a token has none, and simply shows the page again).
  button.hidden = false;
  button.addEventListener('click', async () => {
    try {
      await sendJson('/logout');
    } finally {
      window.location.assign('/login');
    }
  });
}

async function start() {
  const main = document.getElementById('main');
  if (!main) return;
  wireLogout();
  void showSession();
  try {
    await route(main);
  } catch (error) {
    notice(error instanceof ApiError ? error.line : String(error), 'error');
  }
  document.body.dataset.ready = 'true';
}

void start();
