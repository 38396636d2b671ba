import { fstatSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { LogSink } from '@tsk/engine';

export interface PromptFlags {
  prompt?: string;
  description?: string;
  'prompt-file'?: string;
}

/** stdin is read only when it is a pipe or a file, never a terminal (SPEC §2). */
function stdinIsPiped(): boolean {
  try {
    const stat = fstatSync(0);
    return stat.isFIFO() || stat.isFile();
  } catch {
    return false;
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * The prompt from piped stdin, `-p`, deprecated `-d`, or `--prompt-file`. Piped stdin wins over `-p`
 * (with a warning); an empty pipe counts as no input.
 */
export async function readPrompt(flags: PromptFlags, log: LogSink): Promise<string | undefined> {
  if (flags.description !== undefined) log.write('warn', '-d/--description is deprecated; use -p/--prompt');
  let prompt = flags.prompt ?? flags.description;
  if (flags['prompt-file']) prompt = await readFile(flags['prompt-file'], 'utf8');
  if (stdinIsPiped()) {
    const piped = await readStdin();
    if (piped.trim()) {
      if (prompt !== undefined) log.write('warn', 'both stdin and a prompt flag were given; using stdin');
      prompt = piped;
    }
  }
  return prompt;
}
