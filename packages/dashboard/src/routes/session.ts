import { AGENT_NAMES } from '@tsk/engine/core';
import { listTemplates } from '@tsk/engine/templates';
import { Router } from 'express';
import type { SessionJson } from '../api-contract.js';
import { route, type DashboardContext } from './context.js';

/** `GET /api/session`: who the page acts as, and what it may queue (repository names only, never their paths). */
export function sessionRouter(context: DashboardContext): Router {
  const router = Router();
  router.get(
    '/api/session',
    route(async (_req, res) => {
      const templates = await listTemplates({ configDir: context.machine.configDir });
      const names = templates.map((template) => template.name);
      const body: SessionJson = {
        signer: context.trust.key.name,
        repositories: Object.keys(context.machine.dashboard.repositories).map((name) => ({ name })),
        templates: names.includes('generic') ? names : ['generic', ...names],
        agents: [...AGENT_NAMES],
      };
      res.json(body);
    }),
  );
  return router;
}
