import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TemplateError } from '../errors/index.js';
import type { LogSink, LogSource } from '../logging/index.js';
import { renderInstructions } from './render-instructions.js';
import { listTemplates, readTemplate } from './template-store.js';

let root: string;
let repoPath: string;
let configDir: string;
let builtInDir: string;
let warnings: string[];
let log: LogSink;

async function template(dir: string, name: string, text: string): Promise<string> {
  const path = join(dir, `${name}.md`);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, text);
  return path;
}

const projectDir = (): string => join(repoPath, '.tsk', 'templates');
const userDir = (): string => join(configDir, 'templates');

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'tsk-templates-'));
  repoPath = join(root, 'repo');
  configDir = join(root, 'config', 'tsk');
  builtInDir = join(root, 'built-in');
  await mkdir(repoPath);
  warnings = [];
  log = { write: (source: LogSource, line: string) => void (source === 'warn' && warnings.push(line)) };
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function failure(promise: Promise<unknown>): Promise<TemplateError> {
  const error: unknown = await promise.then(() => undefined, (caught: unknown) => caught);
  if (!(error instanceof TemplateError)) throw new Error(`expected a TemplateError, got ${String(error)}`);
  expect(error.message).not.toContain('\n');
  return error;
}

describe('template resolution', () => {
  it('should prefer the project, then the user, then the built-in template', async () => {
    await template(builtInDir, 'feat', 'built-in {{PROMPT}}');
    await template(userDir(), 'feat', 'user {{PROMPT}}');
    await template(projectDir(), 'feat', 'project {{PROMPT}}');
    const options = { type: 'feat', prompt: 'x', repoPath, configDir, builtInDir };
    expect(await renderInstructions(options)).toBe('project x');
    await rm(projectDir(), { recursive: true });
    expect(await renderInstructions(options)).toBe('user x');
    await rm(userDir(), { recursive: true });
    expect(await renderInstructions(options)).toBe('built-in x');
  });

  it('should ignore project templates when no repository is given', async () => {
    await template(builtInDir, 'feat', 'built-in {{PROMPT}}');
    await template(projectDir(), 'feat', 'project {{PROMPT}}');
    expect(await renderInstructions({ type: 'feat', prompt: 'x', configDir, builtInDir })).toBe('built-in x');
  });

  it('should list each template once with its winning source and description', async () => {
    await template(builtInDir, 'feat', '---\ndescription: built-in feat\n---\n{{PROMPT}}');
    await template(builtInDir, 'fix', '---\ndescription: built-in fix\n---\n{{PROMPT}}');
    await template(userDir(), 'fix', '---\ndescription: my fix\n---\n{{PROMPT}}');
    await template(projectDir(), 'review', 'no frontmatter');
    await writeFile(join(builtInDir, 'README.txt'), 'not a template');
    expect(await listTemplates({ repoPath, configDir, builtInDir })).toEqual([
      { name: 'feat', source: 'built-in', path: join(builtInDir, 'feat.md'), description: 'built-in feat' },
      { name: 'fix', source: 'user', path: join(userDir(), 'fix.md'), description: 'my fix' },
      { name: 'review', source: 'project', path: join(projectDir(), 'review.md'), description: undefined },
    ]);
  });

  it('should read the raw text of the winning template, frontmatter included', async () => {
    const text = '---\ndescription: d\n---\n# Body {{PROMPT}}\n';
    const path = await template(userDir(), 'feat', text);
    expect(await readTemplate('feat', { repoPath, configDir, builtInDir })).toEqual({
      name: 'feat',
      source: 'user',
      path,
      description: 'd',
      text,
      body: '# Body {{PROMPT}}\n',
    });
  });

  it('should list the available templates for an unknown type', async () => {
    await template(builtInDir, 'feat', '{{PROMPT}}');
    await template(userDir(), 'fix', '{{PROMPT}}');
    const error = await failure(renderInstructions({ type: 'nope', prompt: 'x', configDir, builtInDir }));
    expect(error.message).toBe('Unknown template type "nope"; available: feat, fix (or generic: the prompt alone)');
    expect((await failure(readTemplate('nope', { configDir, builtInDir }))).message).toContain('available: feat, fix');
  });

  it('should refuse a repository template that leads outside the repository, and follow one that stays inside', async () => {
    const secret = join(root, 'home', '.aws', 'credentials');
    await mkdir(dirname(secret), { recursive: true });
    await writeFile(secret, 'aws_secret_access_key = SECRET\n');
    await mkdir(projectDir(), { recursive: true });
    await symlink(secret, join(projectDir(), 'feat.md'));
    const refusal = `Template ${join(projectDir(), 'feat.md')} leads outside the repository (a symbolic link); tsk reads a repository's templates only from files inside it`;
    const linked = await failure(renderInstructions({ type: 'feat', prompt: 'x', repoPath, configDir, builtInDir }));
    expect(linked.message).toBe(refusal);
    expect(linked.message).not.toContain('SECRET');
    expect((await failure(listTemplates({ repoPath, configDir, builtInDir }))).message).toBe(refusal);
    // Linked to the repository's own docs: nothing the agent could not read anyway.
    await rm(join(projectDir(), 'feat.md'));
    await writeFile(join(repoPath, 'TASK.md'), 'In-repo: {{PROMPT}}');
    await symlink('../../TASK.md', join(projectDir(), 'feat.md'));
    expect(await renderInstructions({ type: 'feat', prompt: 'x', repoPath, configDir, builtInDir })).toBe('In-repo: x');
  });

  it('should refuse a type that is not a plain file name', async () => {
    const error = await failure(renderInstructions({ type: '../../etc/passwd', prompt: 'x', configDir, builtInDir }));
    expect(error.message).toContain('Invalid template type "../../etc/passwd"');
  });
});

describe('renderInstructions', () => {
  const special = 'Fix <a & "b"> then {{x}} and {{{y}}} in $HOME with `rm -rf` and \\{{z}}';

  it('should pass the prompt verbatim for generic tasks', async () => {
    expect(await renderInstructions({ type: 'generic', prompt: special, configDir, builtInDir })).toBe(special);
  });

  it('should use a generic.md when a user defines one', async () => {
    await template(userDir(), 'generic', 'Always: {{PROMPT}}');
    expect(await renderInstructions({ type: 'generic', prompt: 'go', configDir, builtInDir })).toBe('Always: go');
  });

  it('should insert the prompt verbatim, special characters and all', async () => {
    await template(builtInDir, 'feat', '---\ndescription: d\n---\n\n<task>\n{{PROMPT}}\n</task>\n');
    expect(await renderInstructions({ type: 'feat', prompt: special, configDir, builtInDir })).toBe(`<task>\n${special}\n</task>\n`);
  });

  it('should accept {{DESCRIPTION}} with a deprecation warning', async () => {
    await template(userDir(), 'old', 'Do: {{DESCRIPTION}}');
    expect(await renderInstructions({ type: 'old', prompt: special, configDir, builtInDir, log })).toBe(`Do: ${special}`);
    expect(warnings).toEqual([`template "old" (${join(userDir(), 'old.md')}) uses {{DESCRIPTION}}, which is deprecated: use {{PROMPT}}`]);
  });

  it('should accept TSK’s {{description}} like {{DESCRIPTION}}, with a deprecation warning', async () => {
    const path = await template(projectDir(), 'issue-bot', '# Solve the issue\n\n{{description}}\n');
    expect(await renderInstructions({ type: 'issue-bot', prompt: special, repoPath, configDir, builtInDir, log })).toBe(`# Solve the issue\n\n${special}\n`);
    expect(warnings).toEqual([`template "issue-bot" (${path}) uses {{description}}, which is deprecated: use {{PROMPT}}`]);
    // Like {{PROMPT}}, it needs a prompt unless the template tests it.
    const missing = await failure(renderInstructions({ type: 'issue-bot', prompt: undefined, repoPath, configDir, builtInDir }));
    expect(missing.message).toBe(`template "issue-bot" (${path}) needs a prompt for {{PROMPT}}, but none was given`);
    await template(projectDir(), 'optional', 'Go{{#if description}}: {{description}}{{/if}}');
    expect(await renderInstructions({ type: 'optional', prompt: undefined, repoPath, configDir, builtInDir })).toBe('Go');
  });

  it('should fill {{STACK}} and {{PROJECT}} with the task’s', async () => {
    await template(builtInDir, 'layer', 'Write .tsk/dockerfiles/stack/{{STACK}}.dockerfile for /workspace/{{PROJECT}}');
    const facts = { STACK: 'rust', PROJECT: 'web-app' };
    expect(await renderInstructions({ type: 'layer', prompt: undefined, configDir, builtInDir, facts })).toBe(
      'Write .tsk/dockerfiles/stack/rust.dockerfile for /workspace/web-app',
    );
    const without = await failure(renderInstructions({ type: 'layer', prompt: undefined, configDir, builtInDir }));
    expect(without.message).toContain('unknown placeholder {{STACK}} on line 1');
  });

  it('should require a prompt when the template uses the placeholder', async () => {
    await template(builtInDir, 'feat', 'Do: {{PROMPT}}');
    for (const prompt of [undefined, '', '  \n']) {
      const error = await failure(renderInstructions({ type: 'feat', prompt, configDir, builtInDir }));
      expect(error.message).toBe(`template "feat" (${join(builtInDir, 'feat.md')}) needs a prompt for {{PROMPT}}, but none was given`);
    }
    const generic = await failure(renderInstructions({ type: 'generic', prompt: undefined, configDir, builtInDir }));
    expect(generic.message).toContain('no prompt was given');
  });

  it('should make the prompt optional for a template that tests it with #if', async () => {
    await template(builtInDir, 'shell', 'Hello{{#if PROMPT}}\nTask: {{PROMPT}}{{/if}}\n');
    expect(await renderInstructions({ type: 'shell', prompt: undefined, configDir, builtInDir })).toBe('Hello\n');
    expect(await renderInstructions({ type: 'shell', prompt: 'do it', configDir, builtInDir })).toBe('Hello\nTask: do it\n');
  });

  it('should render a template without a placeholder unchanged and warn that the prompt was not used', async () => {
    await template(builtInDir, 'fixed', 'Run the linters.\n');
    expect(await renderInstructions({ type: 'fixed', prompt: 'ignored', configDir, builtInDir, log })).toBe('Run the linters.\n');
    expect(warnings).toEqual([`template "fixed" (${join(builtInDir, 'fixed.md')}) has no {{PROMPT}} placeholder, so the prompt was not used`]);
    warnings.length = 0;
    expect(await renderInstructions({ type: 'fixed', prompt: undefined, configDir, builtInDir, log })).toBe('Run the linters.\n');
    expect(warnings).toEqual([]);
  });

  it('should reject unknown placeholders and broken syntax with one line naming the template', async () => {
    const path = await template(builtInDir, 'typo', 'Do: {{PROMTP}}');
    const typo = await failure(renderInstructions({ type: 'typo', prompt: 'x', configDir, builtInDir }));
    expect(typo.message).toBe(`Cannot render template "typo" (${path}): unknown placeholder {{PROMTP}} on line 1 (defined: {{PROMPT}}, {{STACK}}, {{PROJECT}}; write \\{{ for a literal {{)`);
    await template(builtInDir, 'broken', 'Do: {{ PROMPT');
    const broken = await failure(renderInstructions({ type: 'broken', prompt: 'x', configDir, builtInDir }));
    expect(broken.message).toMatch(/^Cannot parse template "broken" .*Parse error on line 1/);
  });

  it('should keep escaped braces in a template literal', async () => {
    await template(builtInDir, 'ci', 'Use \\{{ secrets.TOKEN }} for {{PROMPT}}');
    expect(await renderInstructions({ type: 'ci', prompt: 'CI', configDir, builtInDir })).toBe('Use {{ secrets.TOKEN }} for CI');
  });
});
