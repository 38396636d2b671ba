import type { LocalTrust } from '@tsk/engine';
import { isTaskId } from '@tsk/engine/core';
import type { MachineConfig } from '@tsk/engine/config';
import type { TaskQueue } from '@tsk/engine/queue';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { TaskFeed } from '../task-feed.js';

/** What every route works with: built once by `startDashboard`. */
export interface DashboardContext {
  queue: TaskQueue;
  machine: MachineConfig;
  /** The key of the person running the dashboard (tasks queued from the page are signed with it) and the keys they trust. */
  trust: Pick<LocalTrust, 'key' | 'ring'>;
  feed: TaskFeed;
  /** The server's own log (one line each): failures the page only sees as a status. */
  log: (line: string) => void;
}

/** An async route whose failure reaches the error handler (express 5 does this for rejected promises too). */
export function route(handler: (req: Request, res: Response) => Promise<void>): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    handler(req, res).catch(next);
  };
}

/** A task id from the path, when it is one (anything else never reaches Redis). */
export function taskIdParam(req: Request): string | undefined {
  const id = req.params.id;
  return typeof id === 'string' && isTaskId(id) ? id : undefined;
}
