// A small confirmation dialog (`<dialog>`, modal, keyboard-friendly): every action asks first.
import { el } from './dom.js';

/**
 * Ask to confirm an action; with `prompt`, also ask for text (a follow-up's request).
 * Resolves with `null` when the user cancels, else with the text (empty without `prompt`).
 * @param {{ title: string, message: string, confirm: string, prompt?: string }} options
 * @returns {Promise<string | null>}
 */
export function confirmAction({ title, message, confirm, prompt }) {
  const text = prompt ? el('textarea', { id: 'dialog-prompt', name: 'prompt', rows: 6, required: true }) : null;
  const ok = el('button', { type: 'submit', value: 'ok', class: 'primary' }, confirm);
  const cancel = el('button', { type: 'submit', value: 'cancel', formnovalidate: true }, 'Cancel');
  const form = el(
    'form',
    { method: 'dialog' },
    el('h2', { id: 'dialog-title' }, title),
    el('p', {}, message),
    text ? el('label', { for: 'dialog-prompt' }, prompt) : null,
    text,
    el('div', { class: 'buttons' }, cancel, ok),
  );
  const dialog = /** @type {HTMLDialogElement} */ (el('dialog', { class: 'confirm', 'aria-labelledby': 'dialog-title' }, form));
  document.body.append(dialog);
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => {
      const confirmed = dialog.returnValue === 'ok';
      const value = text ? /** @type {HTMLTextAreaElement} */ (text).value : '';
      dialog.remove();
      resolve(confirmed ? value : null);
    });
    dialog.showModal();
    (text ?? ok).focus();
  });
}
