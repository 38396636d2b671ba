import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const TSK_BIN = resolve(fileURLToPath(import.meta.url), '../../../bin/run.js');

export interface TskRunResult {
  exitCode: number | null;
  stdout: string;
  stderr: string;
}

export interface TskProcess {
  child: ChildProcess;
  /** Resolves when the process exits. */
  done: Promise<TskRunResult>;
  /** Resolves when stderr or stdout has printed `text`. */
  waitFor(text: string, timeoutMs?: number): Promise<void>;
  /** What it printed so far, stdout then stderr. */
  printed(): string;
}

/** Isolated tsk home: its own config, data and runtime dirs, so tests never see a user's tsk.toml. */
export interface TskHome {
  env: NodeJS.ProcessEnv;
  dir: string;
  cleanup(): Promise<void>;
}

export async function makeTskHome(extraEnv: NodeJS.ProcessEnv = {}): Promise<TskHome> {
  const dir = await mkdtemp(join(tmpdir(), 'tsk-home-'));
  return {
    dir,
    env: {
      ...process.env,
      TSK_CONFIG_HOME: join(dir, 'config'),
      TSK_DATA_HOME: join(dir, 'data'),
      TSK_RUNTIME_DIR: join(dir, 'run'),
      // The home's lock folder, which would sweep a warm proxy, goes with the test: no proxy may outlive it.
      TSK_PROXY_IDLE_TIMEOUT: '0',
      NO_COLOR: '1',
      ...extraEnv,
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

/** Start `tsk <args>` as a user would (the built binary), with stdin closed unless `input` is given. */
export function startTsk(args: string[], options: { env: NodeJS.ProcessEnv; cwd?: string; input?: string }): TskProcess {
  const child = spawn(process.execPath, [TSK_BIN, ...args], {
    env: options.env,
    cwd: options.cwd,
    stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  if (options.input !== undefined) child.stdin?.end(options.input);
  let stdout = '';
  let stderr = '';
  const watchers: { text: string; resolve: () => void }[] = [];
  const check = () => {
    for (const watcher of [...watchers]) {
      if (stdout.includes(watcher.text) || stderr.includes(watcher.text)) {
        watchers.splice(watchers.indexOf(watcher), 1);
        watcher.resolve();
      }
    }
  };
  child.stdout?.on('data', (chunk: Buffer) => ((stdout += chunk.toString()), check()));
  child.stderr?.on('data', (chunk: Buffer) => ((stderr += chunk.toString()), check()));
  const done = new Promise<TskRunResult>((resolveDone, reject) => {
    child.on('error', reject);
    child.on('close', (exitCode) => resolveDone({ exitCode, stdout, stderr }));
  });
  return {
    child,
    done,
    printed: () => `${stdout}${stderr}`,
    waitFor: (text, timeoutMs = 300_000) =>
      new Promise<void>((resolveWait, reject) => {
        const timer = setTimeout(() => reject(new Error(`"${text}" not printed after ${timeoutMs}ms\nstdout:\n${stdout}\nstderr:\n${stderr}`)), timeoutMs);
        watchers.push({ text, resolve: () => (clearTimeout(timer), resolveWait()) });
        check();
        void done.then(() => {
          if (watchers.some((w) => w.text === text)) reject(new Error(`tsk exited before printing "${text}"\nstdout:\n${stdout}\nstderr:\n${stderr}`));
        });
      }),
  };
}

/** Run `tsk <args>` to completion. */
export function runTsk(args: string[], options: { env: NodeJS.ProcessEnv; cwd?: string; input?: string }): Promise<TskRunResult> {
  return startTsk(args, options).done;
}

/** Collect a finished child's output (stdout and stderr, each whole) and exit code. */
export function outputOf(child: ChildProcess): Promise<TskRunResult> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (exitCode) => resolve({ exitCode, stdout, stderr }));
  });
}
