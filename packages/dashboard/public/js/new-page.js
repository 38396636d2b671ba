// Queueing a task (`/new`): a repository from the server's `[dashboard] repositories` (by name: the page
// never sends a path), a template, an agent, the prompt and a name. The server signs it with the key of
// the person running the dashboard (`/api/session` says whose).
import { ApiError, getJson, sendJson } from './api.js';
import { el, notice, replaceChildren } from './dom.js';

/** @param {HTMLElement} main */
export async function newTaskPage(main) {
  const session = await getJson('/api/session');
  const select = (id, label, values, preferred) => {
    const input = el('select', { id, name: id, required: true }, ...values.map((value) => el('option', { value }, value)));
    if (values.includes(preferred)) input.value = preferred;
    return [el('label', { for: id }, label), input];
  };
  const repositories = session.repositories.map((repository) => repository.name);
  const [repoLabel, repository] = select('repository', 'Repository', repositories);
  const [templateLabel, template] = select('template', 'Template', session.templates, 'generic');
  const [agentLabel, agent] = select('agent', 'Agent', session.agents, 'claude');
  const prompt = el('textarea', { id: 'prompt', name: 'prompt', rows: 8, required: true });
  const name = el('input', { id: 'name', name: 'name', type: 'text', maxlength: 100, placeholder: 'from the prompt when empty' });
  const submit = el('button', { type: 'submit', class: 'primary' }, 'Queue');
  const form = el(
    'form',
    { class: 'form', id: 'new-task' },
    repoLabel,
    repository,
    templateLabel,
    template,
    agentLabel,
    agent,
    el('label', { for: 'prompt' }, 'Prompt'),
    prompt,
    el('label', { for: 'name' }, 'Name'),
    name,
    el('div', { class: 'buttons' }, submit),
  );
  replaceChildren(
    main,
    el('h1', {}, 'Queue a task'),
    el('p', { class: 'muted' }, 'Signed with the key ', el('strong', {}, session.signer), ' of the person running this dashboard: whoever holds its token queues as them.'),
    repositories.length > 0 ? form : el('p', { class: 'warn' }, 'No repository to queue from: name some in the [dashboard] repositories section of the configuration where the dashboard runs.'),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    submit.setAttribute('disabled', '');
    try {
      const body = { repository: repository.value, template: template.value, agent: agent.value, prompt: prompt.value };
      if (name.value.trim()) body.name = name.value.trim();
      const queued = await sendJson('/api/tasks', body);
      const first = queued.tasks[0];
      if (first) window.location.assign(`/tasks/${encodeURIComponent(first.id)}`);
      else notice('Nothing was queued.', 'warn');
    } catch (error) {
      notice(error instanceof ApiError ? error.line : String(error), 'error');
    } finally {
      submit.removeAttribute('disabled');
    }
  });
}
