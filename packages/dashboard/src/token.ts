import { readFile, stat } from 'node:fs/promises';
import { InputError } from '@tsk/engine/core';
import { isLoopback } from './security.js';

/** Shorter tokens are refused: the token is all that stands between a network and the user's signing key. */
export const MIN_TOKEN_LENGTH = 16;

/**
 * The dashboard's token: `TSK_DASHBOARD_TOKEN`, else the first line of `[dashboard] token_file` (which must
 * not be readable by others). Undefined when neither is set. @throws InputError when the file cannot be
 * read, is open to others, or the token is too short
 */
export async function readDashboardToken(tokenFile: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  const fromEnv = env.TSK_DASHBOARD_TOKEN?.trim();
  let token = fromEnv === '' ? undefined : fromEnv;
  if (token === undefined && tokenFile !== undefined) {
    let text: string;
    try {
      if (((await stat(tokenFile)).mode & 0o077) !== 0) {
        throw new InputError(`${tokenFile}: the dashboard's token file is readable by others`, { hint: `chmod 600 ${tokenFile}` });
      }
      text = await readFile(tokenFile, 'utf8');
    } catch (error) {
      if (error instanceof InputError) throw error;
      throw new InputError(`${tokenFile}: cannot read the dashboard's token file (${(error as NodeJS.ErrnoException).code ?? 'error'})`, { hint: 'check [dashboard] token_file' });
    }
    token = text.split('\n')[0]?.trim();
  }
  if (token !== undefined && token.length < MIN_TOKEN_LENGTH) {
    throw new InputError(`The dashboard's token is too short (at least ${MIN_TOKEN_LENGTH} characters)`, { hint: 'make one with: openssl rand -hex 24' });
  }
  return token;
}

/** Bound to anything but loopback the dashboard must have a token. @throws InputError without one */
export function checkBinding(host: string, token: string | undefined): void {
  if (token !== undefined || isLoopback(host)) return;
  throw new InputError(`The dashboard on ${host} would be open to anyone who reaches that address: it needs a token`, {
    hint: 'set TSK_DASHBOARD_TOKEN or [dashboard] token_file, or bind it to 127.0.0.1',
  });
}
