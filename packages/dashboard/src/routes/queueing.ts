import { createTaskSpec, isAgentName, oneLine, signTask, taskSigner } from '@tsk/engine';
import { taskViewJson } from '@tsk/engine/queue';
import { Router } from 'express';
import type { QueueRequestJson, TaskListJson } from '../api-contract.js';
import { MAX_PROMPT_CHARS, promptOf, serverSink } from './actions.js';
import { route, type DashboardContext } from './context.js';
import { sendError } from './errors.js';

/** A template or task name as the page sends it (the engine checks it again). */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/**
 * `POST /api/tasks`: queue a task as `tsk add` does, on a repository named in `[dashboard] repositories`
 * (never a path from the browser), signed with the key of the person running the dashboard.
 */
export function queueingRouter(context: DashboardContext): Router {
  const router = Router();
  router.post(
    '/api/tasks',
    route(async (req, res) => {
      const request = (typeof req.body === 'object' && req.body !== null ? req.body : {}) as Partial<QueueRequestJson>;
      const repositories = context.machine.dashboard.repositories;
      const repoPath = typeof request.repository === 'string' && Object.hasOwn(repositories, request.repository) ? repositories[request.repository] : undefined;
      if (repoPath === undefined) return sendError(res, 400, 'No such repository', 'pick one of [dashboard] repositories');
      const template = request.template ?? 'generic';
      if (typeof template !== 'string' || !NAME.test(template)) return sendError(res, 400, 'No such template');
      if (typeof request.agent !== 'string' || !isAgentName(request.agent)) return sendError(res, 400, 'No such agent');
      const name = request.name === undefined || request.name === '' ? undefined : request.name;
      if (name !== undefined && (typeof name !== 'string' || !NAME.test(name))) return sendError(res, 400, 'A task name is letters, digits and . _ - (at most 64)');
      const prompt = promptOf(request);
      if (prompt === undefined) return sendError(res, 400, 'A task needs a prompt', `at most ${MAX_PROMPT_CHARS} characters`);
      const spec = await createTaskSpec({
        repoPath,
        type: template,
        name,
        prompt,
        agent: request.agent,
        log: serverSink(context, request.repository!),
        signer: taskSigner(context.trust.key),
        viaRemote: true,
      });
      const task = await context.queue.add(signTask(spec, context.trust.key));
      context.log(oneLine(`dashboard: queued ${spec.id} (${spec.type}, ${spec.stack}, ${spec.agent}) on ${request.repository!}`));
      const body: TaskListJson = { tasks: [taskViewJson(task)] };
      res.status(201).json(body);
    }),
  );
  return router;
}
