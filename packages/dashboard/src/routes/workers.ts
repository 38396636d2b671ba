import { Router } from 'express';
import type { WorkerListJson } from '../api-contract.js';
import { route, type DashboardContext } from './context.js';

/** `GET /api/workers`: the live workers, as `tsk workers` lists them. */
export function workersRouter(context: DashboardContext): Router {
  const router = Router();
  router.get(
    '/api/workers',
    route(async (_req, res) => {
      const body: WorkerListJson = { workers: await context.queue.workers() };
      res.json(body);
    }),
  );
  return router;
}
