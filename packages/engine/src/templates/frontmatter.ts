/** A template's text split into its optional frontmatter fields and the body that gets rendered. */
export interface ParsedTemplate {
  /** The `description` frontmatter key, if any. */
  description: string | undefined;
  /** The text after the frontmatter, leading blank lines removed. */
  body: string;
}

// `---` on the first line (after an optional BOM), then up to the next line that is only `---`.
const FRONTMATTER = /^\uFEFF?---[ \t]*\r?\n(?:([\s\S]*?)\r?\n)?---[ \t]*(?:\r?\n|$)/;

function unquote(value: string): string {
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
    try {
      const parsed: unknown = JSON.parse(value);
      if (typeof parsed === 'string') return parsed;
    } catch {
      // Not valid JSON escaping: fall through and just drop the quotes.
    }
    return value.slice(1, -1);
  }
  if (value.length >= 2 && value.startsWith("'") && value.endsWith("'")) return value.slice(1, -1).replaceAll("''", "'");
  return value;
}

/**
 * Splits optional frontmatter (`---` … `---`) off a template. Only simple `key: value` lines are read
 * (tsk needs `description` alone), so no YAML library is involved; other keys are ignored. Text that
 * starts with `---` but never closes it is treated as having no frontmatter.
 */
export function parseFrontmatter(text: string): ParsedTemplate {
  const match = FRONTMATTER.exec(text);
  if (!match) return { description: undefined, body: text.replace(/^\uFEFF/, '') };
  let description: string | undefined;
  for (const line of (match[1] ?? '').split(/\r?\n/)) {
    const field = /^description[ \t]*:[ \t]*(.*?)[ \t]*$/.exec(line);
    if (field?.[1]) description = unquote(field[1]);
  }
  const body = text.slice(match[0].length).replace(/^(?:[ \t]*\r?\n)+/, '');
  return { description, body };
}
