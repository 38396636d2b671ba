import { spawnSync, type StdioOptions } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '@tsk/engine/core';

/**
 * The terminal an editor runs on. stdin and stdout when both are terminals; otherwise the controlling
 * terminal (/dev/tty), so `echo prompt | tsk run -e` still opens the editor on the user's screen.
 * Undefined without any terminal (CI, cron, a detached process).
 */
function editorTerminal(): { stdio: StdioOptions; close(): void } | undefined {
  if (process.stdin.isTTY && process.stdout.isTTY) return { stdio: 'inherit', close: () => undefined };
  let fd: number;
  try {
    fd = openSync('/dev/tty', 'r+');
  } catch {
    return undefined;
  }
  return { stdio: [fd, fd, 'inherit'], close: () => closeSync(fd) };
}

/** The check `--edit` needs before anything else happens: a terminal the editor can use. */
export function assertEditorTerminal(flag: string): void {
  const terminal = editorTerminal();
  if (!terminal) throw new InputError(`${flag} needs an interactive terminal`, { hint: `drop ${flag}, or run tsk from a terminal` });
  terminal.close();
}

/** Open `file` in $VISUAL/$EDITOR (vi by default) and wait for it. Needs a terminal. */
export function openEditor(file: string, env: NodeJS.ProcessEnv = process.env): void {
  const terminal = editorTerminal();
  if (!terminal) {
    throw new InputError('Editing needs an interactive terminal', { hint: `run tsk from a terminal, or edit ${file} yourself` });
  }
  const editor = env.VISUAL || env.EDITOR || 'vi';
  try {
    // The editor setting may carry arguments (`code --wait`), so it goes through the shell.
    const result = spawnSync(`${editor} "$TSK_EDIT_FILE"`, { shell: true, stdio: terminal.stdio, env: { ...env, TSK_EDIT_FILE: file } });
    if (result.error || result.status !== 0) throw new InputError(`Editor "${editor}" exited with ${result.status ?? result.error?.message}`);
  } finally {
    terminal.close();
  }
}

/** Let the user edit `text` in their editor and return what they saved. */
export async function editInEditor(text: string): Promise<string> {
  assertEditorTerminal('--edit');
  const dir = await mkdtemp(join(tmpdir(), 'tsk-edit-'));
  const file = join(dir, 'instructions.md');
  try {
    await writeFile(file, text);
    openEditor(file);
    return await readFile(file, 'utf8');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
