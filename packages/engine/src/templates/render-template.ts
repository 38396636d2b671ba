import Handlebars from 'handlebars';
import { TemplateError } from '../errors/index.js';
import { silentSink, type LogSink } from '../logging/index.js';
import { DEPRECATED_PLACEHOLDERS, placeholderUsage, PROMPT_PLACEHOLDER } from './placeholders.js';

/** The template being rendered: its name and path (for messages) and its body (frontmatter removed). */
export interface RenderableTemplate {
  name: string;
  path: string;
  body: string;
}

const LITERAL_HINT = 'write \\{{ for a literal {{';

/**
 * What a template may say about the task besides the prompt: `{{STACK}}` (the stack the image is built
 * for) and `{{PROJECT}}` (the project name: the sandbox's `/workspace/<project>`, the name of its
 * project snippet). Known once the configuration is resolved; a template rendered without them that
 * names them fails like one with a misspelt placeholder.
 */
export interface TaskFacts {
  STACK: string;
  PROJECT: string;
}

/** One line out of handlebars' multi-line errors, in tsk's words. */
function handlebarsReason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const missing = /^"(.+)" not defined in .* - (\d+):\d+$/.exec(message);
  if (missing) return `unknown placeholder {{${missing[1]}}} on line ${missing[2]} (defined: {{PROMPT}}, {{STACK}}, {{PROJECT}}; ${LITERAL_HINT})`;
  const lines = message.split('\n').filter((line) => line.trim() !== '');
  const detail = lines.length > 1 ? `${lines[0]} ${lines[lines.length - 1]}` : (lines[0] ?? message);
  return `${detail} (${LITERAL_HINT})`;
}

/** True when the user actually said something: an empty or blank prompt counts as none. */
export function hasPrompt(prompt: string | undefined): prompt is string {
  return prompt !== undefined && prompt.trim() !== '';
}

/**
 * Renders a template body with the prompt. The prompt is passed as data, never compiled, so `{{`, `<`,
 * `&`, `$` and backticks in it reach the agent exactly as typed (`noEscape` stops HTML escaping).
 * Strict mode turns a misspelt placeholder into an error instead of silently rendering nothing.
 *
 * A template without a placeholder renders unchanged; a prompt given to it is not used, with a warning,
 * because appending it would put text where the template's author did not plan for it.
 */
export function renderTemplate(template: RenderableTemplate, prompt: string | undefined, log: LogSink = silentSink, facts?: TaskFacts): string {
  const where = `template "${template.name}" (${template.path})`;
  let program: hbs.AST.Program;
  try {
    program = Handlebars.parse(template.body);
  } catch (error) {
    throw new TemplateError(`Cannot parse ${where}: ${handlebarsReason(error)}`, { cause: error });
  }
  const usage = placeholderUsage(program);
  for (const name of usage.deprecated) {
    log.write('warn', `${where} uses {{${name}}}, which is deprecated: use {{${PROMPT_PLACEHOLDER}}}`);
  }
  if (usage.requiresPrompt && !hasPrompt(prompt)) {
    throw new TemplateError(`${where} needs a prompt for {{${PROMPT_PLACEHOLDER}}}, but none was given`, {
      hint: 'pass -p/--prompt, --prompt-file or pipe it on stdin',
    });
  }
  if (!usage.uses && hasPrompt(prompt)) {
    log.write('warn', `${where} has no {{${PROMPT_PLACEHOLDER}}} placeholder, so the prompt was not used`);
  }
  const value = hasPrompt(prompt) ? prompt : '';
  try {
    // A private environment, so helpers or partials registered elsewhere cannot change the output.
    const render = Handlebars.create().compile(program, { noEscape: true, strict: true });
    const prompts = Object.fromEntries([PROMPT_PLACEHOLDER, ...DEPRECATED_PLACEHOLDERS].map((name) => [name, value]));
    return render({ ...facts, ...prompts });
  } catch (error) {
    throw new TemplateError(`Cannot render ${where}: ${handlebarsReason(error)}`, { cause: error });
  }
}
