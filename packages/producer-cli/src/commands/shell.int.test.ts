import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { taskDir, tskDirs } from '@tsk/engine';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { git, repoState } from '../test-utils/repo-state.js';
import { makeTskHome, runTsk, TSK_BIN, type TskHome } from '../test-utils/run-tsk.js';
import { containersOf, makeSimpleRepo } from '../test-utils/simple-repo.js';
import { TmuxTerminal } from '../test-utils/tmux.js';

const quote = (arg: string) => `'${arg.replaceAll("'", `'\\''`)}'`;
/** bash's prompt in the sandbox: `agent@tsk-<id>:/workspace/repo$ `. */
const PROMPT = /agent@tsk-[a-z0-9-]+:\/workspace\/repo\$ ?$/m;

/** Whether process `pid` still runs. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('tsk shell on a real terminal (tmux, real Docker, real git)', () => {
  let home: TskHome;
  let root: string;
  let repo: string;
  const terminals: TmuxTerminal[] = [];

  beforeAll(async () => {
    home = await makeTskHome();
    root = mkdtempSync(join(tmpdir(), 'tsk-shell-test-'));
    // Named `repo` like other tests' repositories: the same image serves them all.
    repo = makeSimpleRepo(join(root, 'repo'), { 'README.md': '# shell test\n' });
  });

  afterEach(() => {
    for (const terminal of terminals.splice(0)) terminal.kill();
  });

  afterAll(async () => {
    await home.cleanup();
    rmSync(root, { recursive: true, force: true });
  });

  /** `tsk shell` on a 100×30 terminal of its own; `wrap` is the shell line around the tsk command. */
  function openShell(name: string, wrap: (tsk: string) => string): TmuxTerminal {
    const tsk = [process.execPath, TSK_BIN, 'shell', '--repo', repo, '--agent', 'no-op', '-n', name].map(quote).join(' ');
    const terminal = TmuxTerminal.start(wrap(tsk), { name, dir: root, columns: 100, rows: 30, env: home.env });
    terminals.push(terminal);
    return terminal;
  }

  /** What the task leaves behind: no container, no task directory, no snapshot ref. */
  function expectCleanedUp(id: string): void {
    expect(containersOf(id)).toBe('');
    expect(existsSync(taskDir(tskDirs(home.env).dataDir, id))).toBe(false);
    expect(git(repo, 'for-each-ref', 'refs/tsk/')).toBe('');
  }

  it('types, resizes and interrupts in the sandbox; exit saves the work as a branch and leaves the user repository alone', async () => {
    const before = repoState(repo);
    // The wrapper says whether tsk gave the terminal back in the mode it found it (not raw), and how tsk exited.
    const terminal = openShell('typed', (tsk) => `saved=$(stty -g); ${tsk}; code=$?; [ "$(stty -g)" = "$saved" ] && echo TTY-RESTORED; echo TSK-EXIT=$code`);

    const id = (await terminal.waitFor(/Task ([A-Za-z0-9_]{8}) \(shell, default, no-op\)/, 300_000))[1]!;
    await terminal.waitFor(PROMPT, 300_000);
    // The rendered shell template was printed on entry.
    expect(terminal.screen()).toContain('# tsk sandbox');

    // Markers are arithmetic, so the typed line itself never matches what the shell prints.
    terminal.type('echo hello > shell.txt && echo WROTE-$((1+1))');
    await terminal.waitFor(/^WROTE-2$/m);

    terminal.type('echo SIZE-$((3*3)) $(stty size)');
    await terminal.waitFor(/^SIZE-9 30 100$/m);
    terminal.resize(120, 40);
    // The new size travels SIGWINCH → tsk → Docker: ask until it has arrived.
    let size = '';
    for (let attempt = 1; attempt <= 20 && size !== '40 120'; attempt++) {
      terminal.type(`echo SIZE-$((1000+${attempt})) $(stty size)`);
      size = (await terminal.waitFor(new RegExp(`^SIZE-${1000 + attempt} (\\d+ \\d+)$`, 'm')))[1]!;
      if (size !== '40 120') await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(size).toBe('40 120');

    // Ctrl+C reaches the sandbox's shell: `sleep 100` ends at once with SIGINT, the shell and tsk go on.
    terminal.type('sleep 100');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    terminal.press('C-c');
    terminal.type('echo "INTERRUPTED-$((2+3)) status=$?"');
    await terminal.waitFor(/^INTERRUPTED-5 status=130$/m, 20_000);
    expect(terminal.screen()).not.toContain('TSK-EXIT=');
    expect(terminal.screen()).not.toContain('Cancelling');

    terminal.type('exit');
    const exit = await terminal.waitFor(/^TSK-EXIT=(\d+)$/m, 120_000);
    const screen = terminal.screen();
    expect(exit[1], screen).toBe('0');
    expect(screen).toContain(`COMPLETE ${id}: branch tsk/shell/typed/${id}`);
    expect(screen).toContain('TTY-RESTORED');

    const branch = `tsk/shell/typed/${id}`;
    expect(git(repo, 'show', `${branch}:shell.txt`)).toBe('hello');
    expect(git(repo, 'log', '-1', '--format=%s', branch)).toBe('tsk automated changes for task: typed');
    expect(repoState(repo)).toEqual(before);
    expectCleanedUp(id);
  });

  it('closing the terminal ends the shell like exit: the work becomes a branch, nothing is left running', async () => {
    const pidFile = join(root, 'closed.pid');
    // `exec`: tsk itself is the pane's process, the one the closing terminal hangs up on.
    const terminal = openShell('closed', (tsk) => `echo $$ > ${quote(pidFile)}; exec ${tsk}`);
    const id = (await terminal.waitFor(/Task ([A-Za-z0-9_]{8}) \(shell/, 300_000))[1]!;
    await terminal.waitFor(PROMPT, 300_000);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    terminal.type('echo bye > closed.txt && echo CLOSING-$((4+4))');
    await terminal.waitFor(/^CLOSING-8$/m);

    terminal.kill();
    const deadline = Date.now() + 120_000;
    while (alive(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 250));
    expect(alive(pid)).toBe(false);
    expect(git(repo, 'show', `tsk/shell/closed/${id}:closed.txt`)).toBe('bye');
    expectCleanedUp(id);
  });

  it('refuses with one clear line when stdin is not a terminal, before snapshotting anything', async () => {
    const before = repoState(repo);
    const result = await runTsk(['shell', '--repo', repo, '--agent', 'no-op', '-n', 'piped'], { env: home.env });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toBe('Error: stdin is not a terminal: tsk shell needs an interactive one (run it from a terminal; tsk run runs a task without one)\n');
    expect(result.stdout).toBe('');
    expect(repoState(repo)).toEqual(before);
    expect(git(repo, 'for-each-ref', 'refs/tsk/')).toBe('');
    expect(git(repo, 'branch', '--list', 'tsk/shell/piped/*')).toBe('');
  });
});
