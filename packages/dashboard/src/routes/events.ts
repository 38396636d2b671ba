import { stripControl } from '@tsk/engine/core';
import { taskViewJson } from '@tsk/engine/queue';
import { Router } from 'express';
import type { LogLineJson } from '../api-contract.js';
import { route, taskIdParam, type DashboardContext } from './context.js';
import { sendError } from './errors.js';
import { openEventStream } from './event-stream.js';

/** Past this many bytes waiting for a page, a log follower stops reading Redis until the page catches up. */
const LOG_HIGH_WATER = 1024 * 1024;

/**
 * `GET /api/events`: the task list and the workers as they change (one poll of the queue for every page,
 * see {@link TaskFeed}); `GET /api/tasks/:id/log`: the task's log from the start, then live, then `end`.
 */
export function eventsRouter(context: DashboardContext): Router {
  const router = Router();
  router.get('/api/events', (req, res) => {
    const stream = openEventStream(req, res);
    const unsubscribe = context.feed.subscribe({
      tasks: (event) => stream.send('tasks', event),
      workers: (event) => stream.send('workers', event),
    });
    stream.signal.addEventListener('abort', unsubscribe, { once: true });
  });
  router.get(
    '/api/tasks/:id/log',
    route(async (req, res) => {
      const id = taskIdParam(req);
      if (id === undefined || (await context.queue.get(id)) === undefined) return sendError(res, 404, `No task ${id ?? ''}`.trim(), 'see the list of tasks');
      const stream = openEventStream(req, res);
      try {
        for await (const entry of context.queue.followLog(id, stream.signal)) {
          // One event per line, as `tsk logs -f` prints them: without control characters.
          for (const part of entry.line.split('\n')) {
            const line: LogLineJson = { source: entry.source, text: stripControl(part) };
            if (!stream.send('line', line)) return;
          }
          if (res.writableLength > LOG_HIGH_WATER) await stream.drained();
          if (stream.signal.aborted) return;
        }
        const task = await context.queue.get(id);
        if (task !== undefined) stream.send('end', taskViewJson(task));
      } catch (error) {
        if (!stream.signal.aborted) context.log(`dashboard: log of ${id}: ${(error as Error).message}`);
      } finally {
        stream.close();
      }
    }),
  );
  return router;
}
