export { listTemplates, readTemplate } from './template-store.js';
export { renderInstructions, GENERIC_TYPE, type RenderInstructionsOptions } from './render-instructions.js';
export { renderTemplate, type RenderableTemplate, type TaskFacts } from './render-template.js';
export { parseFrontmatter, type ParsedTemplate } from './frontmatter.js';
export type { TemplateInfo, TemplateText, TemplateSource, TemplateLocationOptions } from './template-info.js';
export { composeFollowUpInstructions, FOLLOW_UP_LIMITS, type EarlierTaskFacts } from './follow-up-instructions.js';
