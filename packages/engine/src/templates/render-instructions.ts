import { TemplateError } from '../errors/index.js';
import type { LogSink } from '../logging/index.js';
import { hasPrompt, renderTemplate, type TaskFacts } from './render-template.js';
import type { TemplateLocationOptions } from './template-info.js';
import { findTemplate, unknownTemplateError } from './template-store.js';

/** The type that means "no template" unless a project or user defines `generic.md`. */
export const GENERIC_TYPE = 'generic';

export interface RenderInstructionsOptions extends TemplateLocationOptions {
  /** Task type: the template name. `generic` without a `generic.md` passes the prompt verbatim. */
  type: string;
  /** The user's prompt; required by templates that use `{{PROMPT}}` without testing it. */
  prompt: string | undefined;
  /** Receives warnings (deprecated placeholder, unused prompt) under source `warn`. */
  log?: LogSink;
  /** `{{STACK}}` and `{{PROJECT}}`; a template that names them needs them. */
  facts?: TaskFacts;
}

/**
 * The instructions the agent gets: the prompt rendered into the template for `type`, found in the
 * repository's `.tsk/templates/`, then the user's templates, then tsk's built-ins.
 *
 * @throws TemplateError for an unknown type (listing the available ones), a missing prompt, or a
 *   template that does not parse or render.
 */
export async function renderInstructions(options: RenderInstructionsOptions): Promise<string> {
  const template = await findTemplate(options.type, options);
  if (template) return renderTemplate(template, options.prompt, options.log, options.facts);
  if (options.type !== GENERIC_TYPE) throw await unknownTemplateError(options.type, options);
  if (!hasPrompt(options.prompt)) {
    throw new TemplateError('A generic task passes the prompt to the agent unchanged, but no prompt was given', {
      hint: 'pass -p/--prompt, --prompt-file or pipe it on stdin, or pick a template with -t',
    });
  }
  return options.prompt;
}
