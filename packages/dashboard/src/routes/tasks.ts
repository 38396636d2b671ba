import { taskViewJson, type TaskView } from '@tsk/engine/queue';
import { Router } from 'express';
import type { TaskDetailJson, TaskJson, TaskListJson } from '../api-contract.js';
import { route, taskIdParam, type DashboardContext } from './context.js';
import { sendError } from './errors.js';

/** The list's filters, from the query string: exact values, unknown ones ignored. */
export interface TaskFilter {
  project?: string;
  state?: string;
  agent?: string;
  /** Who queued it (the name of the key that signed it). */
  person?: string;
}

export function taskFilterOf(query: Record<string, unknown>): TaskFilter {
  const one = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);
  return { project: one(query.project), state: one(query.state), agent: one(query.agent), person: one(query.person) };
}

export function matchesFilter(task: TaskJson, filter: TaskFilter): boolean {
  return (
    (filter.project === undefined || task.project === filter.project) &&
    (filter.state === undefined || task.status === filter.state) &&
    (filter.agent === undefined || task.agent === filter.agent) &&
    (filter.person === undefined || task.queuedBy === filter.person)
  );
}

/** The tasks chained after `id`, oldest first. */
export function childrenOf(id: string, tasks: readonly TaskView[]): TaskView[] {
  return tasks.filter((task) => task.parent === id).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
}

/** `GET /api/tasks` (with filters) and `GET /api/tasks/:id` (with its parent and children). */
export function tasksRouter(context: DashboardContext): Router {
  const router = Router();
  router.get(
    '/api/tasks',
    route(async (req, res) => {
      const filter = taskFilterOf(req.query);
      const body: TaskListJson = { tasks: (await context.queue.list()).map(taskViewJson).filter((task) => matchesFilter(task, filter)) };
      res.json(body);
    }),
  );
  router.get(
    '/api/tasks/:id',
    route(async (req, res) => {
      const id = taskIdParam(req);
      const task = id === undefined ? undefined : await context.queue.get(id);
      if (id === undefined || task === undefined) return sendError(res, 404, `No task ${id ?? ''}`.trim(), 'see the list of tasks');
      const all = await context.queue.list();
      const parent = task.parent === undefined ? undefined : all.find((candidate) => candidate.id === task.parent);
      const body: TaskDetailJson = {
        task: taskViewJson(task),
        parent: parent === undefined ? null : taskViewJson(parent),
        children: childrenOf(id, all).map(taskViewJson),
      };
      res.json(body);
    }),
  );
  return router;
}
