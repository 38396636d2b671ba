import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A tmux server of the test's own (its own socket in the test's folder, `tmux -S <path>`), with one
 * detached session running a command on a real pseudo-terminal of a fixed size: a user at a terminal,
 * typing. `kill()` stops only this server; the socket goes with the folder.
 */
export class TmuxTerminal {
  private constructor(
    private readonly socket: string,
    private readonly config: string,
  ) {}

  /**
   * Start `command` (a shell command line) in a `columns`×`rows` window. The pane stays after the command
   * exits, so its last output can still be read.
   */
  static start(command: string, options: { name: string; dir: string; columns: number; rows: number; env: NodeJS.ProcessEnv }): TmuxTerminal {
    // A unix socket path is limited to 108 bytes: keep `dir` short (a mkdtemp under /tmp).
    const config = join(options.dir, `${options.name}.tmux.conf`);
    writeFileSync(config, 'set -g remain-on-exit on\nset -g history-limit 10000\n');
    const terminal = new TmuxTerminal(join(options.dir, `${options.name}.sock`), config);
    // Not a session nested in the tmux the tests may themselves run in.
    const { TMUX: _outer, ...env } = options.env;
    terminal.tmux(['new-session', '-d', '-s', 'main', '-x', String(options.columns), '-y', String(options.rows), command], env);
    return terminal;
  }

  private tmux(args: string[], env: NodeJS.ProcessEnv = process.env): string {
    return execFileSync('tmux', ['-S', this.socket, '-f', this.config, ...args], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  }

  /** Everything the pane shows and has scrolled away, wrapped lines joined. */
  screen(): string {
    return this.tmux(['capture-pane', '-p', '-J', '-S', '-', '-t', 'main']);
  }

  /** Type `text` literally, then Enter. */
  type(text: string): void {
    this.tmux(['send-keys', '-t', 'main', '-l', text]);
    this.tmux(['send-keys', '-t', 'main', 'Enter']);
  }

  /** Press a key (`C-c`, `C-d`). */
  press(key: string): void {
    this.tmux(['send-keys', '-t', 'main', key]);
  }

  resize(columns: number, rows: number): void {
    this.tmux(['resize-window', '-t', 'main', '-x', String(columns), '-y', String(rows)]);
  }

  /** Wait until the screen matches `pattern`; returns the match. */
  async waitFor(pattern: RegExp, timeoutMs = 60_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const screen = this.screen();
      const match = screen.match(pattern);
      if (match) return match;
      if (Date.now() > deadline) throw new Error(`${pattern} not on screen after ${timeoutMs}ms:\n${screen}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  /** Stop this server (closing its terminals: what runs in them gets SIGHUP). Already gone is fine. */
  kill(): void {
    try {
      this.tmux(['kill-server']);
    } catch {
      // Not running any more.
    }
  }
}
