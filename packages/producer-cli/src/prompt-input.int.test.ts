import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { git } from './test-utils/repo-state.js';
import { makeTskHome, runTsk, type TskHome } from './test-utils/run-tsk.js';
import { containersOf, makeSimpleRepo, runTskOnTerminal } from './test-utils/simple-repo.js';

/** A prompt with everything a shell, HTML escaping or a template engine could mangle. */
const TRICKY = `Fix <b>bold</b> & "quotes" 'single' {{PROMPT}} {{#if x}} $HOME \`date\` \\n done`;

/**
 * Where the prompt comes from (SPEC §2): -p, --prompt-file, piped stdin, deprecated -d, and --edit, each
 * through the built `tsk` binary. The no-op agent prints the instructions it got, and without --json the
 * agent's output is all that goes to stdout, so stdout is exactly what the agent received.
 */
describe('tsk run prompt input (real Docker, built CLI)', () => {
  let home: TskHome;
  let root: string;
  let repo: string;

  beforeAll(async () => {
    home = await makeTskHome();
    root = mkdtempSync(join(tmpdir(), 'tsk-prompt-test-'));
    repo = makeSimpleRepo(join(root, 'prompt-input'));
  });

  afterAll(async () => {
    await home.cleanup();
    rmSync(root, { recursive: true, force: true });
  });

  const noOp = (args: string[], input?: string) => runTsk(['run', '--repo', repo, '--agent', 'no-op', ...args], { env: home.env, input });

  it('should pass -p to the agent verbatim', async () => {
    const result = await noOp(['-p', TRICKY]);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toBe(`${TRICKY}\n`);
    expect(result.stderr).not.toContain('Warning');
  });

  it('should read --prompt-file, keeping its lines', async () => {
    const file = join(root, 'prompt.md');
    writeFileSync(file, `line one\n\n${TRICKY}\n`);
    const result = await noOp(['--prompt-file', file]);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toBe(`line one\n\n${TRICKY}\n`);
  });

  it('should read piped stdin, which wins over -p with a warning', async () => {
    const alone = await noOp([], `${TRICKY}\n`);
    expect(alone.exitCode, alone.stderr).toBe(0);
    expect(alone.stdout).toBe(`${TRICKY}\n`);

    const both = await noOp(['-p', 'from the flag'], 'from the pipe\n');
    expect(both.exitCode, both.stderr).toBe(0);
    expect(both.stdout).toBe('from the pipe\n');
    expect(both.stderr).toContain('Warning: both stdin and a prompt flag were given; using stdin');
  });

  it('should treat an empty pipe as no input, so -p applies without a warning', async () => {
    const result = await noOp(['-p', 'from the flag'], '');
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toBe('from the flag\n');
    expect(result.stderr).not.toContain('Warning');
  });

  it('should accept deprecated -d with a warning', async () => {
    const result = await noOp(['-d', 'described']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toBe('described\n');
    expect(result.stderr).toContain('Warning: -d/--description is deprecated; use -p/--prompt');
  });

  it('should never read stdin when it is a terminal', async () => {
    // On a terminal nobody types anything: if tsk read stdin it would wait forever.
    const result = await runTskOnTerminal(['run', '--repo', repo, '--agent', 'no-op', '-p', 'on a terminal'], { env: home.env });
    expect(result.exitCode, result.stdout).toBe(0);
    expect(result.stdout).toContain('on a terminal');
    expect(result.stdout).not.toContain('Warning');
  });

  it('should open the rendered instructions in $EDITOR on a terminal and give the agent the edited text', async () => {
    const editor = join(root, 'editor.sh');
    writeFileSync(editor, '#!/bin/sh\nsed -i "s/^/EDITED: /" "$1"\n');
    chmodSync(editor, 0o755);
    const env = { ...home.env, EDITOR: editor, VISUAL: '' };
    const result = await runTskOnTerminal(['run', '--repo', repo, '--agent', 'no-op', '-t', 'feat', '-p', TRICKY, '-e'], { env });
    expect(result.exitCode, result.stdout).toBe(0);
    expect(result.stdout).toContain(`EDITED: ${TRICKY}`);
    expect(result.stdout).toContain('EDITED: # Task: implement a feature');
  });

  it('should refuse --edit without a terminal in one line, before creating anything', async () => {
    const result = await noOp(['-p', 'x', '-e']);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toBe('Error: --edit needs an interactive terminal (drop --edit, or run tsk from a terminal)\n');
    expect(git(repo, 'for-each-ref', 'refs/tsk/')).toBe('');
  });

  it.each<[string, string[], RegExp]>([
    ['a missing --prompt-file', ['--prompt-file', '/nonexistent/prompt.md'], /^Error: --prompt-file: cannot read \/nonexistent\/prompt\.md \(no such file\)\n$/],
    ['a folder as --prompt-file', ['--prompt-file', tmpdir()], /^Error: --prompt-file: cannot read .* \(it is a directory\)\n$/],
    ['-p with --prompt-file', ['-p', 'x', '--prompt-file', '/etc/hostname'], /^Error: --prompt-file=\/etc\/hostname cannot also be provided when using --prompt\n$/],
    ['-p with -d', ['-p', 'x', '-d', 'y'], /^Error: .*cannot also be provided when using --description\n$/],
    ['no prompt for a generic task', [], /^Error: A generic task passes the prompt to the agent unchanged, but no prompt was given/],
    ['no prompt for a template that needs one', ['-t', 'fix'], /^Error: template "fix" \(.*fix\.md\) needs a prompt for \{\{PROMPT\}\}, but none was given/],
  ])('should fail in one line with exit 1 for %s', async (_what, args, message) => {
    const result = await noOp(args);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('should leave no task container behind', async () => {
    const result = await runTsk(['run', '--repo', repo, '--agent', 'no-op', '--json', '-p', 'last'], { env: home.env });
    const { id } = JSON.parse(result.stdout) as { id: string };
    expect(containersOf(id)).toBe('');
  });
});
