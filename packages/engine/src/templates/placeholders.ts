/** The placeholder for the user's prompt. */
export const PROMPT_PLACEHOLDER = 'PROMPT';
/**
 * TSK's names for it, still accepted with a warning: `{{DESCRIPTION}}`, and `{{description}}` as TSK's
 * README writes it.
 */
export const DEPRECATED_PLACEHOLDERS: readonly string[] = ['DESCRIPTION', 'description'];

/** How a template uses the prompt placeholders. */
export interface PlaceholderUsage {
  /** `{{PROMPT}}` or a deprecated name appears anywhere. */
  uses: boolean;
  /** The deprecated names that appear, in the order first seen. */
  deprecated: string[];
  /**
   * The template cannot render without a prompt: it uses a placeholder and never tests it. A template
   * that writes `{{#if PROMPT}}…{{/if}}` has said what to do without one, so the prompt is optional.
   */
  requiresPrompt: boolean;
}

type Node = Record<string, unknown>;

function isNode(value: unknown): value is Node {
  return typeof value === 'object' && value !== null;
}

function placeholderName(node: Node): string | undefined {
  if (node.type !== 'PathExpression' || !Array.isArray(node.parts) || node.parts.length !== 1) return undefined;
  const [name] = node.parts as unknown[];
  return typeof name === 'string' && (name === PROMPT_PLACEHOLDER || DEPRECATED_PLACEHOLDERS.includes(name)) ? name : undefined;
}

/**
 * Finds the prompt placeholders in a parsed handlebars program. Walks the AST generically (every
 * object-valued field) so that it sees placeholders in helpers, sub-expressions and nested blocks alike.
 */
export function placeholderUsage(program: unknown): PlaceholderUsage {
  const used = new Set<string>();
  let tested = false;
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) return value.forEach(visit);
    if (!isNode(value)) return;
    const name = placeholderName(value);
    if (name) used.add(name);
    if (value.type === 'BlockStatement' && Array.isArray(value.params)) {
      tested ||= value.params.some((param: unknown) => isNode(param) && placeholderName(param) !== undefined);
    }
    for (const [key, child] of Object.entries(value)) if (key !== 'loc') visit(child);
  };
  visit(program);
  return {
    uses: used.size > 0,
    deprecated: [...used].filter((name) => name !== PROMPT_PLACEHOLDER),
    requiresPrompt: used.size > 0 && !tested,
  };
}
