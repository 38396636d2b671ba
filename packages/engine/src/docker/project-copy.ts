/**
 * What the project layer's `COPY` and `ADD` instructions read from the build context. tsk sends only
 * these paths of the repository (not all of it), so the image tag — a hash of the context — changes when
 * a copied file changes and not when anything else in the repository does.
 */

/** Folder of the build context holding tsk's own files (the Dockerfile, CA certificates). */
export const TSK_CONTEXT_DIR = '.tsk-build';

const INSTRUCTION = /^(COPY|ADD)\s+(.*)$/is;
const REMOTE = /^(https?:\/\/|git@|git:\/\/|ssh:\/\/)/i;

/** Dockerfile lines with continuations (`\` at the end of a line) joined, comments and blanks dropped. */
function logicalLines(text: string): string[] {
  const lines: string[] = [];
  let current = '';
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (current === '' && (line === '' || line.startsWith('#'))) continue;
    if (line.endsWith('\\')) {
      current += `${line.slice(0, -1)} `;
      continue;
    }
    lines.push(current + line);
    current = '';
  }
  if (current.trim() !== '') lines.push(current);
  return lines;
}

/** The arguments of a COPY/ADD, in JSON (`["a", "b", "/dst/"]`) or shell form, without `--flags`. */
function instructionArgs(rest: string): { args: string[]; fromStage: boolean } {
  const trimmed = rest.trim();
  const flags: string[] = [];
  let body = trimmed;
  for (let match = /^(--\S+)\s+/.exec(body); match; match = /^(--\S+)\s+/.exec(body)) {
    flags.push(match[1] ?? '');
    body = body.slice(match[0].length);
  }
  const fromStage = flags.some((flag) => /^--from=/i.test(flag));
  if (body.startsWith('[')) {
    try {
      const parsed: unknown = JSON.parse(body);
      if (Array.isArray(parsed) && parsed.every((item) => typeof item === 'string')) return { args: parsed, fromStage };
    } catch {
      // Not valid JSON: Docker then reads it in shell form too.
    }
  }
  return { args: body.split(/\s+/).filter(Boolean), fromStage };
}

/**
 * The build-context paths that the `COPY` and `ADD` instructions in `dockerfileText` read, in order of
 * appearance, each once. Copies from another stage or image (`--from`), remote `ADD` sources (URLs, git)
 * and heredocs read nothing from the context and are left out.
 */
export function copySources(dockerfileText: string): string[] {
  const sources = new Set<string>();
  for (const line of logicalLines(dockerfileText)) {
    const match = INSTRUCTION.exec(line);
    if (!match) continue;
    const { args, fromStage } = instructionArgs(match[2] ?? '');
    if (fromStage || args.length < 2) continue;
    for (const source of args.slice(0, -1)) {
      if (!REMOTE.test(source) && !source.startsWith('<<')) sources.add(source);
    }
  }
  return [...sources];
}
