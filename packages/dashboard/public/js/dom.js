// Building the DOM from data. Everything the server sends is hostile text (task names, logs, diffs come
// from agents and Redis): it reaches the page only as text nodes or attribute values set one by one,
// never as markup, and no attribute can be an event handler.

/**
 * `el('a', { href: '/x', class: 'id' }, 'text', child)`: an element with attributes and children.
 * Strings (and numbers) become text nodes; null/undefined/false children are skipped.
 * @param {string} tag
 * @param {Record<string, string | number | boolean | null | undefined>} [attrs]
 * @param {...(Node | string | number | null | undefined | false)} children
 * @returns {HTMLElement}
 */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    // Refuse handler attributes and style outright: no caller needs them and the CSP forbids them anyway.
    if (/^on/i.test(name) || name === 'style') throw new Error(`refused attribute ${name}`);
    if (name === 'href' && !isSafeHref(String(value))) continue;
    node.setAttribute(name, value === true ? '' : String(value));
  }
  append(node, ...children);
  return node;
}

/**
 * Append children (text for strings) to a node.
 * @param {Node} node
 * @param {...(Node | string | number | null | undefined | false)} children
 */
export function append(node, ...children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.appendChild(typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child);
  }
  return node;
}

/**
 * Replace a node's children.
 * @param {Node} node
 * @param {...(Node | string | number | null | undefined | false)} children
 */
export function replaceChildren(node, ...children) {
  while (node.firstChild) node.removeChild(node.firstChild);
  return append(node, ...children);
}

/** Same-origin paths only: a link built from data never becomes `javascript:` or another site. */
function isSafeHref(href) {
  return href.startsWith('/') && !href.startsWith('//');
}

/**
 * A link to a task's page.
 * @param {string} id
 * @param {string} [text]
 */
export function taskLink(id, text) {
  return el('a', { href: `/tasks/${encodeURIComponent(id)}`, class: 'task-id' }, text ?? id);
}

/** Say something in the page's status line (an aria-live region). */
export function notice(message, kind = 'info') {
  const box = document.getElementById('notice');
  if (!box) return;
  box.className = `notice ${kind}`;
  replaceChildren(box, message);
}
