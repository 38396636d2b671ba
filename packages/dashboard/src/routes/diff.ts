import { Router } from 'express';
import { taskIdParam, type DashboardContext } from './context.js';
import { sendError } from './errors.js';

/** `GET /api/tasks/:id/diff`: the result branch against where the task started (the engine's task diff). */
export function diffRouter(_context: DashboardContext): Router {
  const router = Router();
  router.get('/api/tasks/:id/diff', (req, res) => {
    if (taskIdParam(req) === undefined) return sendError(res, 404, 'No such task');
    sendError(res, 501, 'Diffs are not served yet');
  });
  return router;
}
