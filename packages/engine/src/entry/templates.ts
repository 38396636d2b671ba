// `@tsk/engine/templates`: template listing, reading and rendering (handlebars); no Docker, git or Redis.
export { listTemplates, readTemplate, renderInstructions } from '../templates/index.js';
