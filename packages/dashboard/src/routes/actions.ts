import { stat } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import { createTaskSpec, earlierFromQueue, oneLine, signTask, taskSigner, type LogSink } from '@tsk/engine';
import { cancelTask, deleteTask, taskViewJson } from '@tsk/engine/queue';
import { Router } from 'express';
import type { ActionJson, FollowUpRequestJson } from '../api-contract.js';
import { route, taskIdParam, type DashboardContext } from './context.js';
import { sendError } from './errors.js';

/** How long a cancel waits for a running task's worker to stop it before answering "stopping". */
const STOP_WAIT_MS = 10_000;

/** The longest prompt the page may send (the task's own limits apply after rendering). */
export const MAX_PROMPT_CHARS = 100_000;

/** A prompt from a request body, when it is one. */
export function promptOf(body: unknown): string | undefined {
  const prompt = typeof body === 'object' && body !== null ? (body as Record<string, unknown>).prompt : undefined;
  return typeof prompt === 'string' && prompt.trim() !== '' && prompt.length <= MAX_PROMPT_CHARS ? prompt : undefined;
}

/** Lines the engine writes while it creates a task: the server's log, not the page. */
export function serverSink(context: DashboardContext, id: string): LogSink {
  return { write: (source, line) => context.log(`dashboard: ${id}: [${source}] ${oneLine(line)}`) };
}

/**
 * Cancel, retry, follow up and delete: the same engine calls as `tsk cancel`, `tsk retry`, `tsk add
 * --follow-up` and `tsk delete`, signed with the key of the person running the dashboard.
 */
export function actionsRouter(context: DashboardContext): Router {
  const router = Router();
  const { queue } = context;

  router.post(
    '/api/tasks/:id/cancel',
    route(async (req, res) => {
      const id = taskIdParam(req);
      const task = id === undefined ? undefined : await queue.get(id);
      if (task === undefined) return sendError(res, 404, 'No such task', 'see the list of tasks');
      const { report, task: after } = await cancelTask(queue, task, STOP_WAIT_MS);
      const body: ActionJson = { message: report ?? `No task ${task.id}`, task: taskViewJson(after) };
      res.json(body);
    }),
  );

  router.post(
    '/api/tasks/:id/retry',
    route(async (req, res) => {
      const id = taskIdParam(req);
      if (id === undefined || (await queue.get(id)) === undefined) return sendError(res, 404, 'No such task', 'see the list of tasks');
      const task = await queue.retry(id, {}, context.trust);
      const body: ActionJson = { message: oneLine(`Queued ${task.id} (retry of ${id}; ${task.type}, ${task.stack}, ${task.agent})`), task: taskViewJson(task) };
      res.status(201).json(body);
    }),
  );

  router.post(
    '/api/tasks/:id/follow-up',
    route(async (req, res) => {
      const id = taskIdParam(req);
      if (id === undefined || (await queue.get(id)) === undefined) return sendError(res, 404, 'No such task', 'see the list of tasks');
      const prompt = promptOf(req.body as FollowUpRequestJson);
      if (prompt === undefined) return sendError(res, 400, 'A follow-up needs a prompt', `at most ${MAX_PROMPT_CHARS} characters`);
      // Verified against the user's keys: the earlier instructions become part of what they sign.
      const earlier = earlierFromQueue(await queue.stored(id), id, context.trust.ring);
      if (!(await isRepositoryHere(earlier.repoPath))) {
        return sendError(res, 409, 'The repository is on another machine: tsk fetch', `follow it up where ${oneLine(earlier.repoPath).slice(0, 200)} is`);
      }
      const spec = await createTaskSpec({
        repoPath: earlier.repoPath,
        prompt,
        followUp: earlier,
        log: serverSink(context, id),
        signer: taskSigner(context.trust.key),
        viaRemote: true,
      });
      const task = await queue.add(signTask(spec, context.trust.key));
      const body: ActionJson = { message: oneLine(`Queued ${spec.id} (follow-up of ${id}; ${spec.type}, ${spec.stack}, ${spec.agent})`), task: taskViewJson(task) };
      res.status(201).json(body);
    }),
  );

  router.delete(
    '/api/tasks/:id',
    route(async (req, res) => {
      const id = taskIdParam(req);
      if (id === undefined || (await queue.get(id)) === undefined) return sendError(res, 404, 'No such task', 'see the list of tasks');
      await deleteTask(queue, id, { dataDir: context.machine.dataDir, ring: context.trust.ring });
      const body: ActionJson = { message: `Deleted ${id}`, task: null };
      res.json(body);
    }),
  );
  return router;
}

/** Whether a repository path from a (verified) task names a folder on this machine. */
export async function isRepositoryHere(path: string): Promise<boolean> {
  if (!isAbsolute(path)) return false;
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}
