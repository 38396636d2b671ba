import Handlebars from 'handlebars';
import { stripControl } from '../common/terminal-text.js';

/** What a follow-up tells its agent about the task it continues. */
export interface EarlierTaskFacts {
  id: string;
  /** The earlier task's result branch (where the workspace starts). */
  branch: string;
  /** The earlier task's rendered instructions, as its agent got them. */
  instructions: string;
  /** The earlier task's summary (its agent's words), when it has one. */
  summary: string | undefined;
  /** `<short hash> <subject>` of each commit between its start and its result, oldest first. */
  commits: readonly string[];
  /** `git diff --stat` between its start and its result. */
  diffstat: string;
}

/** Bounds on the earlier task's part: follow-ups of follow-ups nest, and the whole must fit `TASK_LIMITS.instructionsBytes`. */
export const FOLLOW_UP_LIMITS = {
  instructionsChars: 256 * 1024,
  summaryChars: 4 * 1024,
  commits: 200,
  diffstatChars: 16 * 1024,
} as const;

// A small text of tsk's own rather than a template file: it is no task type (`-t`), and the request it
// ends with went through the chosen template already. Every value is data: `{{` in them stays as typed.
const FOLLOW_UP_TEXT = `# Follow-up of task {{ID}}

This task continues an earlier one. The repository is already at that task's result (branch
\`{{BRANCH}}\`): build on it, do not start over. Below are the earlier task's instructions, what it did, and
then the new request, which is what to do now.

## The earlier task's instructions

{{INSTRUCTIONS}}

## What the earlier task did

{{#if SUMMARY}}
Its summary: {{SUMMARY}}

{{/if}}
{{#if COMMITS.length}}
Its commits, oldest first:

{{#each COMMITS}}
- {{this}}
{{/each}}
{{#if MORE}}
- … {{MORE}} more
{{/if}}

{{else}}
It made no commits.

{{/if}}
{{#if DIFFSTAT}}
Files changed:

\`\`\`
{{DIFFSTAT}}
\`\`\`

{{/if}}
## The new request

{{REQUEST}}
`;

const render = Handlebars.create().compile(FOLLOW_UP_TEXT, { noEscape: true, strict: false });

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}\n… (cut at ${max} characters)`;
}

/**
 * The instructions of a follow-up: the earlier task's instructions, what it did (summary, commits,
 * diffstat) and the new `request` (already rendered through its template), in one text. Pure; the
 * earlier parts are bounded ({@link FOLLOW_UP_LIMITS}) and their control characters removed, since
 * agents wrote them. With `script` (the `script` agent, whose instructions are a bash script) all but the
 * request are bash comments.
 */
export function composeFollowUpInstructions(earlier: EarlierTaskFacts, request: string, options: { script?: boolean } = {}): string {
  const commits = earlier.commits.slice(0, FOLLOW_UP_LIMITS.commits).map((line) => stripControl(line).replace(/\s+/g, ' ').trim());
  const text = render({
    ID: earlier.id,
    BRANCH: earlier.branch,
    INSTRUCTIONS: cut(earlier.instructions.trim(), FOLLOW_UP_LIMITS.instructionsChars),
    SUMMARY: earlier.summary === undefined ? '' : cut(stripControl(earlier.summary).trim(), FOLLOW_UP_LIMITS.summaryChars),
    COMMITS: commits,
    MORE: Math.max(0, earlier.commits.length - commits.length),
    DIFFSTAT: cut(stripControl(earlier.diffstat).trimEnd(), FOLLOW_UP_LIMITS.diffstatChars),
    REQUEST: options.script ? REQUEST_MARK : request.trim(),
  });
  if (!options.script) return text;
  // The `script` agent runs its instructions as bash: everything but the new request becomes comments,
  // so the earlier task's script is shown, not run again.
  const [context = ''] = text.split(REQUEST_MARK);
  const commented = context.split('\n').map((line) => (line === '' ? '#' : `# ${line}`)).join('\n');
  return `${commented}\n${request.trim()}\n`;
}

/** Where the request goes in script style (a line no agent or git output writes). */
const REQUEST_MARK = '\u0000tsk-follow-up-request\u0000';
