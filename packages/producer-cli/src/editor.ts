import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '@tsk/engine';

/** Open `file` in $VISUAL/$EDITOR (vi by default) and wait for it. Needs a terminal. */
export function openEditor(file: string, env: NodeJS.ProcessEnv = process.env): void {
  if (!process.stdin.isTTY || !process.stdout.isTTY) {
    throw new InputError('Editing needs an interactive terminal', { hint: `run tsk from a terminal, or edit ${file} yourself` });
  }
  const editor = env.VISUAL || env.EDITOR || 'vi';
  // The editor setting may carry arguments (`code --wait`), so it goes through the shell.
  const result = spawnSync(`${editor} "$TSK_EDIT_FILE"`, { shell: true, stdio: 'inherit', env: { ...env, TSK_EDIT_FILE: file } });
  if (result.error || result.status !== 0) throw new InputError(`Editor "${editor}" exited with ${result.status ?? result.error?.message}`);
}

/** Let the user edit `text` in their editor and return what they saved. */
export async function editInEditor(text: string): Promise<string> {
  if (!process.stdin.isTTY || !process.stdout.isTTY) {
    throw new InputError('--edit needs an interactive terminal', { hint: 'drop -e, or run tsk from a terminal' });
  }
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
