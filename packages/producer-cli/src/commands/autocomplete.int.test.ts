import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTsk } from '../test-utils/run-tsk.js';

/**
 * `tsk autocomplete` (oclif's plugin) through the built CLI. HOME and XDG_CACHE_HOME point into a
 * temporary folder, and TSK_CACHE_DIR (oclif's override) is unset: the completion cache is written there,
 * never into a real user's ~/.cache.
 */
describe('tsk autocomplete (built CLI, no Docker)', () => {
  let home: string;
  let cache: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(() => {
    home = mkdtempSync(join(tmpdir(), 'tsk-autocomplete-'));
    cache = join(home, '.cache', 'tsk', 'autocomplete');
    env = { ...process.env, HOME: home, XDG_CACHE_HOME: join(home, '.cache'), NO_COLOR: '1' };
    delete env.TSK_CACHE_DIR;
  });

  afterAll(() => {
    rmSync(home, { recursive: true, force: true });
  });

  it.each([
    ['bash', 'TSK_AC_BASH_SETUP_PATH'],
    ['zsh', 'TSK_AC_ZSH_SETUP_PATH'],
  ])('should print the %s line to add to the shell’s rc file', async (shell, variable) => {
    const result = await runTsk(['autocomplete', 'script', shell], { env });
    expect(result.exitCode, result.stderr).toBe(0);
    const setup = join(cache, `${shell}_setup`);
    expect(result.stdout.trim()).toBe(`${variable}=${setup} && test -f $${variable} && source $${variable}; # tsk autocomplete setup`);
  });

  it('should build completion data naming tsk’s commands and flags, and complete them in bash', async () => {
    const result = await runTsk(['autocomplete', 'bash'], { env });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toContain('tsk autocomplete script bash');
    for (const file of ['bash_setup', 'zsh_setup', 'functions/bash/tsk.bash', 'functions/zsh/_tsk']) expect(existsSync(join(cache, file)), file).toBe(true);

    const bash = readFileSync(join(cache, 'functions', 'bash', 'tsk.bash'), 'utf8');
    expect(bash).toMatch(/^add .*--type .*--prompt .*--agent .*--parent .*--wait$/m);
    expect(bash).toMatch(/^docker:build .*--stack .*--dry-run/m);
    for (const command of ['run', 'list', 'wait', 'logs', 'cancel', 'retry', 'server:start', 'template:list', 'key:show']) {
      expect(bash).toMatch(new RegExp(`^${command} `, 'm'));
    }
    const zsh = readFileSync(join(cache, 'functions', 'zsh', '_tsk'), 'utf8');
    expect(zsh).toMatch(/^#compdef tsk$/m);
    expect(zsh).toContain('"add[Queue a task for a worker (tsk server start) to run.]"');
    expect(zsh).toContain('"build[Build the sandbox image for this repository');
    expect(zsh).toMatch(/\{-a,--agent\}/);
    expect(zsh).toContain('--dry-run"[');

    // What a user's shell does on <TAB>: source the setup line's file, then ask the completion function.
    const complete = (line: string): string =>
      execFileSync(
        'bash',
        [
          '-c',
          'source "$1"; read -ra COMP_WORDS <<< "$2"; [[ "$2" == *" " ]] && COMP_WORDS+=(""); ' +
            'COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMP_LINE="$2"; COMP_POINT=${#2}; _tsk_autocomplete; echo "${COMPREPLY[*]}"',
          'complete',
          join(cache, 'bash_setup'),
          line,
        ],
        { env, encoding: 'utf8' },
      ).trim();
    expect(complete('tsk ad')).toBe('add');
    expect(complete('tsk docker bu')).toBe('build');
    expect(complete('tsk add --ag')).toBe('--agent');
    expect(complete('tsk docker build --dr')).toBe('--dry-run');
  });
});
