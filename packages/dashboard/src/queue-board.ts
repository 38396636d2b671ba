import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { createBullBoard } from '@bull-board/api';
import { ExpressAdapter } from '@bull-board/express';
import type { TaskQueue } from '@tsk/engine/queue';
import { Router, type Express, type RequestHandler } from 'express';

/** Where the board is mounted. */
export const QUEUE_BOARD_PATH = '/queues';

/**
 * The board's page needs two things beyond the dashboard's own CSP, and nothing else (found by loading its
 * views in Chromium with each directive tightened in turn and recording the violations:
 * `queue-board.int.test.ts`):
 * - `base-uri 'self'`: the page sets `<base href="/queues/">` and loads everything relative to it (with
 *   `'none'` it renders nothing);
 * - `style-src 'unsafe-inline'`: its loading placeholder is an inline `<style>` and its UI sets style
 *   attributes (about twenty violations per view otherwise). Styles only: scripts stay `'self'` (its JSON
 *   config is a `type="application/json"` block, data, not script), and no `data:` images or fonts are
 *   needed. Its Google Fonts stylesheet stays refused: the page falls back to local fonts, and nothing is
 *   fetched from elsewhere.
 */
export const QUEUE_BOARD_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'self'; frame-ancestors 'none'";

export interface QueueBoardDeps {
  queue: Pick<TaskQueue, 'boardQueue'>;
}

/** Reading only: every request that could change something is refused before the board sees it. */
const READ_METHODS = new Set(['GET', 'HEAD']);

const readOnly: RequestHandler = (req, res, next) => {
  if (READ_METHODS.has(req.method)) return next();
  // The board's own read-only mode refuses these too (405); this refusal does not depend on it.
  res.status(405).json({ error: 'The BullMQ board is read-only: act on tasks with the dashboard or `tsk`', hint: 'its actions would bypass the task life cycle' });
};

const boardHeaders: RequestHandler = (_req, res, next) => {
  res.setHeader('Content-Security-Policy', QUEUE_BOARD_CSP);
  next();
};

/**
 * `/queues`: the BullMQ board (`@bull-board`) over tsk's queue, read-only (`readOnlyMode`, and no method
 * but GET/HEAD reaches it): retrying, promoting, cleaning or removing a job there would go around the task
 * life cycle (records, chains, cancellation). Mount it after the dashboard's security middleware (Host,
 * session), which applies to it as to every route.
 */
export function queueBoardRouter(deps: QueueBoardDeps): Router {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(QUEUE_BOARD_PATH);
  createBullBoard({
    queues: [new BullMQAdapter(deps.queue.boardQueue(), { readOnlyMode: true, allowRetries: false, description: 'tsk tasks (read-only: use the dashboard or tsk to act on them)' })],
    serverAdapter,
    options: { uiConfig: { boardTitle: 'tsk queue', hideDocsLink: true, miscLinks: [{ text: 'Dashboard', url: '/' }] } },
  });
  const board = serverAdapter.getRouter() as Express;
  // The board is an express app of its own: it would name its framework in every answer.
  board.disable('x-powered-by');
  const router = Router();
  router.use(QUEUE_BOARD_PATH, boardHeaders, readOnly, board);
  return router;
}
