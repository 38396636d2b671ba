// oclif's subpaths, not its index: every command loads this file, and the index loads all of oclif.
import { Command } from '@oclif/core/command';
import * as Flags from '@oclif/core/flags';
import { ux } from '@oclif/core/ux';
import { escapeControlInJson, stripControl, TskError } from '@tsk/engine/core';

/**
 * Every tsk command: failures are one line on stderr and exit code 1; a stack trace only with
 * `--debug` or `TSK_DEBUG=1`. Nothing it prints carries terminal control from Redis or an agent.
 */
export abstract class BaseCommand extends Command {
  static override baseFlags = {
    debug: Flags.boolean({ description: 'Show stack traces and debug output.', helpGroup: 'GLOBAL', default: false }),
  };

  protected get debugEnabled(): boolean {
    return this.argv.includes('--debug') || process.env.TSK_DEBUG === '1';
  }

  protected override async catch(error: Error & { code?: unknown }): Promise<unknown> {
    // `this.exit(n)` works by throwing oclif's ExitError: let it through untouched.
    if (error.code === 'EEXIT') throw error;
    if (this.debugEnabled && error.stack) process.stderr.write(`${error.stack}\n`);
    // A message can quote what Redis or an agent wrote.
    const message = stripControl(error instanceof TskError ? error.userMessage : error.message);
    process.stderr.write(`Error: ${'oclif' in error ? oclifLine(message) : firstLine(message)}\n`);
    this.exit(1);
  }

  /**
   * `--json`: the same JSON oclif prints, with the control characters `JSON.stringify` leaves raw (C1,
   * DEL, bidi controls) escaped, so a value from Redis cannot act on the terminal.
   */
  override logJson(json: unknown): void {
    ux.stdout(ux.colorizeJson(escapeControlInJson(JSON.stringify(json, undefined, 2)), { pretty: false, theme: this.config.theme?.json }));
  }
}

function firstLine(message: string): string {
  const line = message.split('\n').find((part) => part.trim()) ?? 'unknown error';
  return line.trim();
}

/**
 * oclif's argument errors put the useful part on later lines ("Parsing --x" / "No file found at …",
 * "The following error occurred:" / "--a cannot also be provided when using --b"): keep all of it on one line.
 */
function oclifLine(message: string): string {
  const parts = message
    .split('\n')
    .map((part) => part.trim())
    .filter((part) => part && part !== 'The following error occurred:' && !part.startsWith('See more help with'));
  return parts.join(': ') || 'unknown error';
}
