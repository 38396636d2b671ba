import { expect } from 'vitest';
import type { TaskViewJson } from '@tsk/engine/queue';
import { runTsk, type TskRunResult } from './run-tsk.js';

/** A task as `--json` prints it. */
export type TaskJson = TaskViewJson;

/** Where a test's `tsk` runs: read when each command starts, since tests set it up in `beforeAll`. */
export type TskContext = () => { env: NodeJS.ProcessEnv; cwd: string };

export interface TskCli {
  /** `tsk <args>`, in the context's environment unless `env` is given. */
  tsk(args: string[], env?: NodeJS.ProcessEnv): Promise<TskRunResult>;
  /** `tsk <args> --json`, which must succeed; its output parsed. */
  tskJson<T>(args: string[]): Promise<T>;
}

/** The built `tsk` as a test's user runs it, from one repository with one tsk home. */
export function tskCli(context: TskContext): TskCli {
  const tsk = (args: string[], env?: NodeJS.ProcessEnv) => runTsk(args, { env: env ?? context().env, cwd: context().cwd });
  return {
    tsk,
    async tskJson<T>(args: string[]): Promise<T> {
      const result = await tsk([...args, '--json']);
      expect(result.exitCode, `${result.stdout}\n${result.stderr}`).toBe(0);
      return JSON.parse(result.stdout) as T;
    },
  };
}
