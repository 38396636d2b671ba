// The server's JSON API (packages/dashboard/src/api-contract.ts). Requests that change something carry
// `X-Tsk-Request: 1` and a JSON body: the server refuses anything else (a cross-site form cannot set them).

/** A refusal from the server: its one-line `error` and the `hint` of what to do. */
export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {string} message
   * @param {string | undefined} hint
   */
  constructor(status, message, hint) {
    super(message);
    this.status = status;
    this.hint = hint;
  }

  /** The error and its hint, as one line for the page. */
  get line() {
    return this.hint ? `${this.message} (${this.hint})` : this.message;
  }
}

async function answer(response) {
  if (response.status === 401) {
    // The session cookie is missing or stale: log in again, then come back to the list.
    window.location.assign('/login');
    throw new ApiError(401, 'Log in first', undefined);
  }
  const type = response.headers.get('content-type') ?? '';
  const body = type.includes('application/json') ? await response.json() : null;
  if (!response.ok) {
    const error = body && typeof body.error === 'string' ? body.error : `${response.status} ${response.statusText}`;
    throw new ApiError(response.status, error, body && typeof body.hint === 'string' ? body.hint : undefined);
  }
  return body;
}

/** GET a JSON resource. */
export async function getJson(path) {
  return answer(await fetch(path, { headers: { Accept: 'application/json' }, credentials: 'same-origin' }));
}

/**
 * POST (or DELETE) JSON with the header that marks a request from this page.
 * @param {string} path
 * @param {unknown} [body]
 * @param {'POST' | 'DELETE'} [method]
 */
export async function sendJson(path, body = {}, method = 'POST') {
  return answer(
    await fetch(path, {
      method,
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-Tsk-Request': '1' },
      body: JSON.stringify(body),
    }),
  );
}

/** The path of a task's resource, its id escaped. */
export function taskPath(id, rest = '') {
  return `/api/tasks/${encodeURIComponent(id)}${rest}`;
}
