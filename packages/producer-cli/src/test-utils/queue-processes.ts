import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TSK_BIN } from './run-tsk.js';

export const WORKER_BIN = resolve(fileURLToPath(import.meta.url), '../../../../worker/bin/tsk-worker.js');

/** A long-running tsk process (a server, a worker, `logs -f`) whose output a test watches. */
export interface WatchedProcess {
  child: ChildProcess;
  pid: number;
  output(): string;
  /** Resolves once the combined output matches. */
  waitFor(pattern: string | RegExp, timeoutMs?: number): Promise<RegExpMatchArray | string>;
  /** Resolves with the exit code (or the signal name). */
  exited: Promise<number | string>;
}

/** Start `node <bin> <args>` and collect stdout and stderr together. */
export function startWatched(bin: string, args: string[], env: NodeJS.ProcessEnv, cwd?: string): WatchedProcess {
  const child = spawn(process.execPath, [bin, ...args], { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | string>((resolveExit) => child.on('close', (code, signal) => resolveExit(code ?? signal ?? 'unknown')));
  let done = false;
  void exited.then(() => (done = true));
  return {
    child,
    pid: child.pid ?? -1,
    output: () => output,
    exited,
    waitFor: async (pattern, timeoutMs = 120_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const match = typeof pattern === 'string' ? (output.includes(pattern) ? pattern : null) : output.match(pattern);
        if (match) return match;
        if (done) throw new Error(`process exited before printing ${String(pattern)}:\n${output}`);
        if (Date.now() > deadline) throw new Error(`${String(pattern)} not printed after ${timeoutMs}ms:\n${output}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
  };
}

/** `tsk server start …` */
export function startServer(args: string[], env: NodeJS.ProcessEnv): WatchedProcess {
  return startWatched(TSK_BIN, ['server', 'start', ...args], env);
}

/** `tsk-worker …` */
export function startWorkerBin(args: string[], env: NodeJS.ProcessEnv): WatchedProcess {
  return startWatched(WORKER_BIN, args, env);
}

/** Stop a process this test started (by its pid) and wait for it. */
export async function stopProcess(process_: WatchedProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (process_.child.exitCode === null && process_.child.signalCode === null) process_.child.kill(signal);
  await process_.exited;
}
