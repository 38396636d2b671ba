import { TaskRefusedError, TrustError, TskError } from '@tsk/engine/core';
import type { ErrorRequestHandler, Response } from 'express';
import type { ErrorJson } from '../api-contract.js';

/** Answer with a status and one line a person can act on. */
export function sendError(res: Response, status: number, error: string, hint?: string): void {
  const body: ErrorJson = hint === undefined ? { error } : { error, hint };
  res.status(status).json(body);
}

/**
 * tsk's own errors become their one line (a refused signature 403, anything else the user asked 400);
 * anything else is a bug or an outage: the page gets a plain 500, the details go to the server's log only
 * (an error's text may name a Redis URL or a path the page has no business seeing).
 */
export function errorHandler(log: (line: string) => void): ErrorRequestHandler {
  return (error: unknown, _req, res, _next) => {
    if (res.headersSent) {
      res.end();
      return;
    }
    if (error instanceof TrustError || error instanceof TaskRefusedError) return sendError(res, 403, error.message, error.hint);
    if (error instanceof TskError) return sendError(res, 400, error.message, error.hint);
    // express's own: a body that is not JSON, or too large.
    const status = (error as { status?: unknown }).status;
    if (typeof status === 'number' && status >= 400 && status < 500) return sendError(res, status, 'Bad request');
    log(`dashboard: ${(error as Error).stack ?? String(error)}`);
    sendError(res, 500, 'The dashboard failed to answer', 'see the output of the dashboard process');
  };
}
