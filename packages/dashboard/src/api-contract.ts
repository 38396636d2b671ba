// The dashboard's HTTP contract: what the server answers and the page (public/*.js) reads. Kept in one
// file so the two sides change together; the page is plain JavaScript and mirrors these shapes by name.
import type { TaskViewJson, WorkerInfo } from '@tsk/engine/queue';

/**
 * Routes (all same-origin; every request needs the session cookie unless the server is bound to loopback
 * and runs without a token — scripts and Prometheus may send `Authorization: Bearer <token>` instead; without
 * either, `/api/...` answers 401 and a page redirects to `/login`; `Host` must be the bound address, a
 * loopback name when bound to loopback, or a name in `[dashboard] hosts`, else 421):
 *
 * Pages (one `index.html`, the page routes itself by path): `GET /`, `/tasks/:id`, `/workers`, `/new`.
 * `GET /login` (form) and `POST /login` (form field `token`; answers with an HTTP-only, SameSite=Strict
 * cookie and a redirect to `/`); `POST /logout`.
 *
 * JSON (`/api/...`; a request that changes something is a POST/DELETE with `Content-Type:
 * application/json` and header `X-Tsk-Request: 1`, from the same origin — anything else is refused 403):
 * - `GET  /api/session`              → {@link SessionJson}
 * - `GET  /api/tasks?project=&state=&agent=&person=` → {@link TaskListJson} (filters optional, exact)
 * - `GET  /api/tasks/:id`            → {@link TaskDetailJson} | 404 {@link ErrorJson}
 * - `GET  /api/tasks/:id/diff`       → {@link DiffJson} | 404/409 {@link ErrorJson}
 * - `POST /api/tasks`                {@link QueueRequestJson} → {@link TaskListJson} (the tasks queued)
 * - `POST /api/tasks/:id/cancel`     → {@link ActionJson}
 * - `POST /api/tasks/:id/retry`      → {@link ActionJson} (the new task)
 * - `POST /api/tasks/:id/follow-up`  {@link FollowUpRequestJson} → {@link ActionJson} (the new task)
 * - `DELETE /api/tasks/:id`          → {@link ActionJson}
 * - `GET  /api/workers`              → {@link WorkerListJson}
 *
 * Server-sent events:
 * - `GET /api/events`: event `tasks` (data {@link TaskEventJson}: the first one `full: true` with every
 *   task, then only what changed) and event `workers` (data {@link WorkerListJson}), as they change.
 * - `GET /api/tasks/:id/log`: event `line` (data {@link LogLineJson}) for each line already written, then
 *   each new one; event `end` (data {@link TaskJson}) once the task is terminal and its log read.
 *
 * Operators: `GET /metrics` (Prometheus text), `/queues` (BullMQ board, read-only).
 */

/** A task as the list and the task page show it: the same object `tsk list --json` prints. */
export type TaskJson = TaskViewJson;

export interface TaskListJson {
  tasks: TaskJson[];
}

export interface TaskEventJson {
  /** True for the first event of a stream: `changed` is then every task, and the page replaces its list. */
  full: boolean;
  changed: TaskJson[];
  /** Ids of tasks deleted since the last event. */
  removed: string[];
}

export interface TaskDetailJson {
  task: TaskJson;
  /** The task it chains after, if any. */
  parent: TaskJson | null;
  /** Tasks chained after it (its children), oldest first. */
  children: TaskJson[];
}

/** One rendered log line: what `tsk logs -f` prints, without the terminal colours. */
export interface LogLineJson {
  /** `tsk`, `build`, `agent` or `warn` (see engine `logging/`). */
  source: string;
  /** The line, already stripped of control characters by the engine; the page shows it as text. */
  text: string;
}

export interface DiffJson {
  /** The commit the task started from and the result branch, as git names them. */
  base: string;
  branch: string;
  /** `git diff --stat`-like summary per file. */
  files: { path: string; added: number; removed: number; binary: boolean }[];
  /** The unified diff (possibly cut at `truncatedAt` bytes); hostile text, shown as text. */
  patch: string;
  truncated: boolean;
}

export interface QueueRequestJson {
  /** A name from `[dashboard] repositories` (never a path from the browser). */
  repository: string;
  template: string;
  agent: string;
  prompt: string;
  name?: string;
}

export interface FollowUpRequestJson {
  prompt: string;
}

export interface ActionJson {
  /** What happened, in one line, as the CLI would say it. */
  message: string;
  task: TaskJson | null;
}

export interface SessionJson {
  /** The key name tasks queued from this page are signed with (whoever holds the token acts as them). */
  signer: string;
  repositories: { name: string }[];
  templates: string[];
  agents: string[];
}

export interface WorkerListJson {
  workers: WorkerInfo[];
}

/** Every refusal: a status code and one line a person can act on. */
export interface ErrorJson {
  error: string;
  hint?: string;
}
