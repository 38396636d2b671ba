import { DiffUnavailableError, readTaskDiff } from '@tsk/engine';
import { Router } from 'express';
import type { DiffJson } from '../api-contract.js';
import { route, taskIdParam, type DashboardContext } from './context.js';
import { sendError } from './errors.js';

/** The status a refused diff gets: no task 404, anything the user can fix elsewhere 409, a signature refused 403. */
const STATUS: Record<DiffUnavailableError['reason'], number> = { missing: 404, 'no-result': 409, untrusted: 403, elsewhere: 409, 'not-fetched': 409 };

/**
 * `GET /api/tasks/:id/diff`: the result against where the task started (the engine's `readTaskDiff`: only
 * from a repository whose signed job verifies against the user's keys and that is on this machine).
 */
export function diffRouter(context: DashboardContext): Router {
  const router = Router();
  router.get(
    '/api/tasks/:id/diff',
    route(async (req, res) => {
      const id = taskIdParam(req);
      if (id === undefined) return sendError(res, 404, 'No such task', 'see the list of tasks');
      try {
        const diff = await readTaskDiff(await context.queue.stored(id), id, context.trust.ring);
        const body: DiffJson = { base: diff.base, branch: diff.branch, files: diff.files, patch: diff.patch, truncated: diff.truncated };
        res.json(body);
      } catch (error) {
        if (!(error instanceof DiffUnavailableError)) throw error;
        // The engine's line names the repository's path; "elsewhere" says it as the contract does.
        if (error.reason === 'elsewhere') return sendError(res, 409, 'The repository is on another machine: tsk fetch', error.hint);
        sendError(res, STATUS[error.reason], error.message, error.hint);
      }
    }),
  );
  return router;
}
