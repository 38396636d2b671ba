import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { git } from './repo-state.js';
import { outputOf, TSK_BIN, type TskRunResult } from './run-tsk.js';

/** A repository on branch `main` holding `files`, committed, with its own git identity. */
export function makeSimpleRepo(dir: string, files: Record<string, string> = { 'README.md': '# test\n' }): string {
  mkdirSync(dir, { recursive: true });
  git(dir, 'init', '-q', '-b', 'main');
  git(dir, 'config', 'user.name', 'Test User');
  git(dir, 'config', 'user.email', 'test@example.com');
  writeFiles(dir, files);
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'initial');
  return dir;
}

/** Write `files` (relative path → text) under `dir`, creating folders. */
export function writeFiles(dir: string, files: Record<string, string>): void {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
}

/** Ids of the containers of a task (running or not): tsk must leave none. */
export function containersOf(taskId: string): string {
  return execFileSync('docker', ['ps', '-aq', '--filter', `label=tsk.task=${taskId}`], { encoding: 'utf8' }).trim();
}

/**
 * Run `tsk <args>` on a pseudo-terminal (util-linux `script`), as a user at a terminal would, with a
 * fresh session so the pty is its controlling terminal. Its stdout and stderr both arrive in `stdout`
 * (CRLF turned into LF).
 */
export async function runTskOnTerminal(args: string[], options: { env: NodeJS.ProcessEnv }): Promise<TskRunResult> {
  const quote = (arg: string) => `'${arg.replaceAll("'", `'\\''`)}'`;
  const command = [process.execPath, TSK_BIN, ...args].map(quote).join(' ');
  const result = await outputOf(spawn('script', ['-qec', command, '/dev/null'], { env: options.env, stdio: ['ignore', 'pipe', 'pipe'] }));
  return { ...result, stdout: result.stdout.replace(/\r\n/g, '\n') };
}
