import { describe, expect, it } from 'vitest';
import { subcommand, summarizeStderr } from './git-cli.js';

describe('summarizeStderr', () => {
  it("should keep only git's fatal and error lines, on one line", () => {
    const stderr = "Cloning into 'x'...\nwarning: something\nfatal: repository 'nope' does not exist\n";
    expect(summarizeStderr(stderr)).toBe("fatal: repository 'nope' does not exist");
  });

  it('should fall back to every non-empty line when git names no error', () => {
    expect(summarizeStderr('  first\n\n second  \n')).toBe('first second');
    expect(summarizeStderr('')).toBe('');
  });
});

describe('subcommand', () => {
  it('should skip global options and their values', () => {
    expect(subcommand(['-c', 'safe.directory=*', '--git-dir', '/x/.git', '--work-tree', '/x', 'commit', '-m', 'x'])).toBe('commit');
    expect(subcommand(['--no-pager', 'status'])).toBe('status');
    expect(subcommand(['-c', 'a=b'])).toBe('');
  });
});
