import { fstatSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { InputError, type LogSink } from '@tsk/engine/core';

export interface PromptFlags {
  prompt?: string;
  description?: string;
  'prompt-file'?: string;
}

/**
 * stdin is read only when something is piped or redirected into it — a pipe, a socket (what Node and
 * many tools use for a child's pipe) or a file — never a terminal (SPEC §2), and not /dev/null.
 */
function stdinIsPiped(): boolean {
  try {
    const stat = fstatSync(0);
    return stat.isFIFO() || stat.isSocket() || stat.isFile();
  } catch {
    return false;
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function readPromptFile(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (code ?? String(error));
    throw new InputError(`--prompt-file: cannot read ${path} (${reason})`, { cause: error });
  }
}

/**
 * The prompt from piped stdin, `-p`, deprecated `-d`, or `--prompt-file` (the flags exclude each other).
 * Piped stdin wins over a flag, with a warning; an empty or blank pipe counts as no input.
 */
export async function readPrompt(flags: PromptFlags, log: LogSink): Promise<string | undefined> {
  if (flags.description !== undefined) log.write('warn', '-d/--description is deprecated; use -p/--prompt');
  let prompt = flags.prompt ?? flags.description;
  if (flags['prompt-file'] !== undefined) prompt = await readPromptFile(flags['prompt-file']);
  if (stdinIsPiped()) {
    const piped = await readStdin();
    if (piped.trim()) {
      if (prompt !== undefined) log.write('warn', 'both stdin and a prompt flag were given; using stdin');
      prompt = piped;
    }
  }
  return prompt;
}
