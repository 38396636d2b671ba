import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { git } from '../test-utils/repo-state.js';
import { makeTskHome, runTsk, type TskHome } from '../test-utils/run-tsk.js';
import { makeSimpleRepo, runTskOnTerminal, writeFiles } from '../test-utils/simple-repo.js';

const BUILT_IN_DIR = resolve(fileURLToPath(import.meta.url), '../../../../../templates');
const BUILT_INS = ['ack', 'doc', 'feat', 'fix', 'plan', 'project-layer', 'refactor', 'shell', 'tech-stack'];
/** Everything a shell, HTML escaping or handlebars could mangle, over several lines. */
const TRICKY = [
  'Handle <a href="x">links</a> & entities &amp; in both \'single\' and "double" quotes,',
  'keep {{PROMPT}} and {{{raw}}} and {{#each x}} literally,',
  'and $HOME, ${PATH}, $(id -u) and `uname` must not expand.\\n stays two characters.',
].join('\n');

/** What the agent should receive for a built-in: its body, rendered the way SPEC §4 says, by handlebars itself. */
function expectedInstructions(name: string, prompt: string, facts: { STACK: string; PROJECT: string }): string {
  const text = readFileSync(join(BUILT_IN_DIR, `${name}.md`), 'utf8');
  const body = text.replace(/^---\n[\s\S]*?\n---\n/, '').replace(/^\n+/, '');
  return Handlebars.create().compile(body, { noEscape: true })({ PROMPT: prompt, ...facts });
}

interface TemplateRow {
  name: string;
  source: string;
  description: string;
  path: string;
}

describe('built-in templates through the built CLI (real Docker)', () => {
  let home: TskHome;
  let repo: string;

  beforeAll(async () => {
    // No user or project templates here, so every type resolves to the built-in.
    home = await makeTskHome();
    repo = makeSimpleRepo(join(home.dir, 'built-ins-repo'));
  });

  afterAll(async () => {
    await home.cleanup();
  });

  it.each(BUILT_INS)('should give the agent the built-in %s template rendered with the prompt verbatim', async (name) => {
    const result = await runTsk(['run', '--repo', repo, '--agent', 'no-op', '-t', name, '-p', TRICKY], { env: home.env });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toBe(expectedInstructions(name, TRICKY, { STACK: 'default', PROJECT: 'built-ins-repo' }));
    expect(result.stdout).toContain(TRICKY);
    expect(result.stdout).not.toMatch(/^---/);
    expect(result.stderr).not.toContain('Warning');
  });
});

describe('templates through the built CLI (real Docker)', () => {
  let home: TskHome;
  let root: string;
  let repo: string;

  beforeAll(async () => {
    home = await makeTskHome();
    root = mkdtempSync(join(tmpdir(), 'tsk-template-test-'));
    repo = makeSimpleRepo(join(root, 'templates-repo'), {
      'README.md': '# test\n',
      '.tsk/templates/save-prompt.md': [
        '---',
        'description: Save the prompt to prompt.txt and commit it (a bash script for the script agent)',
        '---',
        "cat > prompt.txt <<'TSK_PROMPT_END'",
        '{{PROMPT}}',
        'TSK_PROMPT_END',
        'git add prompt.txt',
        'git commit -q -m "chore: save the prompt"',
        '',
      ].join('\n'),
      '.tsk/templates/fix.md': '---\ndescription: Project fix\n---\nProject fix: {{PROMPT}}\n',
    });
    writeFiles(join(home.env.TSK_CONFIG_HOME!, 'tsk', 'templates'), {
      'legacy.md': '---\ndescription: "Old style, with \\"quotes\\""\n---\nLegacy: {{DESCRIPTION}}\n',
      'fix.md': '---\ndescription: User fix\n---\nUser fix: {{PROMPT}}\n',
    });
  });

  afterAll(async () => {
    await home.cleanup();
    rmSync(root, { recursive: true, force: true });
  });

  const tsk = (args: string[]) => runTsk(args, { env: home.env });

  it('should run a project template that is a bash script, with the prompt reaching it verbatim', async () => {
    const result = await tsk(['run', '--repo', repo, '--agent', 'script', '-t', 'save-prompt', '-n', 'verbatim', '--json', '-p', TRICKY]);
    expect(result.exitCode, result.stderr).toBe(0);
    const task = JSON.parse(result.stdout) as { id: string; branch: string; status: string };
    expect(task.status).toBe('COMPLETE');
    expect(task.branch).toBe(`tsk/save-prompt/verbatim/${task.id}`);
    expect(git(repo, 'show', `${task.branch}:prompt.txt`) + '\n').toBe(`${TRICKY}\n`);
    expect(git(repo, 'log', '-1', '--format=%s', task.branch)).toBe('chore: save the prompt');
  });

  it('should list every template once with its winning source and description, as a table and as JSON', async () => {
    const table = await tsk(['template', 'list', '--repo', repo]);
    expect(table.exitCode, table.stderr).toBe(0);
    const lines = table.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+SOURCE\s+DESCRIPTION$/);
    expect(lines).toContainEqual(expect.stringMatching(/^fix\s+project\s+Project fix$/));
    expect(lines).toContainEqual(expect.stringMatching(/^legacy\s+user\s+Old style, with "quotes"$/));
    expect(lines).toContainEqual(expect.stringMatching(/^feat\s+built-in\s+Implement a new feature/));

    const json = await tsk(['template', 'list', '--repo', repo, '--json']);
    expect(json.exitCode, json.stderr).toBe(0);
    const rows = JSON.parse(json.stdout) as TemplateRow[];
    expect(rows.map((row) => row.name)).toEqual([...new Set([...BUILT_INS, 'legacy', 'save-prompt'])].sort());
    expect(rows.find((row) => row.name === 'fix')).toEqual({
      name: 'fix',
      source: 'project',
      description: 'Project fix',
      path: join(repo, '.tsk', 'templates', 'fix.md'),
    });
    expect(rows.find((row) => row.name === 'save-prompt')?.source).toBe('project');
    expect(rows.filter((row) => row.source === 'built-in').map((row) => row.name)).toEqual(['ack', 'doc', 'feat', 'plan', 'project-layer', 'refactor', 'shell', 'tech-stack']);
  });

  it('should resolve project over user over built-in, and a user template outside any repository', async () => {
    const inRepo = await tsk(['run', '--repo', repo, '--agent', 'no-op', '-t', 'fix', '-p', 'x']);
    expect(inRepo.stdout).toBe('Project fix: x\n');
    const other = makeSimpleRepo(join(root, 'plain-repo'));
    const userLevel = await tsk(['run', '--repo', other, '--agent', 'no-op', '-t', 'fix', '-p', 'x']);
    expect(userLevel.stdout).toBe('User fix: x\n');
    const shown = await runTsk(['template', 'show', 'fix'], { env: home.env, cwd: tmpdir() });
    expect(shown.stdout).toBe('---\ndescription: User fix\n---\nUser fix: {{PROMPT}}\n');
  });

  it('should render the deprecated {{DESCRIPTION}} with a warning', async () => {
    const result = await tsk(['run', '--repo', repo, '--agent', 'no-op', '-t', 'legacy', '-p', 'old <way>']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toBe('Legacy: old <way>\n');
    expect(result.stderr).toMatch(/Warning: template "legacy" .* uses \{\{DESCRIPTION\}\}, which is deprecated: use \{\{PROMPT\}\}/);
  });

  it('should show a template raw, frontmatter included', async () => {
    const result = await tsk(['template', 'show', 'feat', '--repo', repo]);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toBe(readFileSync(join(BUILT_IN_DIR, 'feat.md'), 'utf8'));
  });

  it('should name the available templates for an unknown type, in one line', async () => {
    for (const args of [['run', '--repo', repo, '--agent', 'no-op', '-t', 'feature', '-p', 'x'], ['template', 'show', 'feature', '--repo', repo]]) {
      const result = await tsk(args);
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toMatch(/^Error: Unknown template type "feature"; available: ack, doc, feat, fix, legacy, plan, project-layer, refactor, save-prompt, shell, tech-stack/);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
    }
  });

  it('should copy a built-in to the user templates before editing it, on a terminal', async () => {
    const editor = join(root, 'append.sh');
    writeFileSync(editor, '#!/bin/sh\necho "Also update the changelog." >> "$1"\n');
    chmodSync(editor, 0o755);
    const result = await runTskOnTerminal(['template', 'edit', 'doc', '--repo', repo], { env: { ...home.env, EDITOR: editor, VISUAL: '' } });
    expect(result.exitCode, result.stdout).toBe(0);
    const userCopy = join(home.env.TSK_CONFIG_HOME!, 'tsk', 'templates', 'doc.md');
    expect(result.stdout).toContain(`Copied the built-in template to ${userCopy}`);
    expect(readFileSync(userCopy, 'utf8')).toBe(`${readFileSync(join(BUILT_IN_DIR, 'doc.md'), 'utf8')}Also update the changelog.\n`);
    const rows = JSON.parse((await tsk(['template', 'list', '--repo', repo, '--json'])).stdout) as TemplateRow[];
    expect(rows.find((row) => row.name === 'doc')?.source).toBe('user');

    const noTerminal = await tsk(['template', 'edit', 'doc', '--repo', repo]);
    expect(noTerminal.exitCode).toBe(1);
    expect(noTerminal.stderr).toMatch(/^Error: Editing needs an interactive terminal/);
  });
});
