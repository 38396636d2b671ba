import { describe, expect, it } from 'vitest';
import { lineCutMarker } from '../common/line-splitter.js';
import { boundedSink, logCutLine } from './bounded-sink.js';
import type { LogLimits } from './log-limits.js';
import type { LogSink, LogSource } from './log-sink.js';

/** Small limits so a test reaches them: 1 KiB of output, 300 more for tsk, 10 bytes per line. */
const LIMITS: LogLimits = { lineChars: 50, rawLineChars: 500, taskBytes: 1024, tskReserveBytes: 300, lineOverheadBytes: 10 };

function recorder(): LogSink & { lines: [LogSource, string][] } {
  const lines: [LogSource, string][] = [];
  return { lines, write: (source, line) => lines.push([source, line]) };
}

const bytesOf = (lines: [LogSource, string][]) => lines.reduce((sum, [, line]) => sum + Buffer.byteLength(line) + LIMITS.lineOverheadBytes, 0);

describe('boundedSink', () => {
  it('should strip terminal control and cut every line, whatever its source', () => {
    const out = recorder();
    const log = boundedSink(out, LIMITS);
    log.write('agent', '\x1b]0;pwned\x07\x1b[31mred\x1b[0m\r \u202eevil');
    log.write('tsk', 'x'.repeat(80));
    expect(out.lines).toEqual([
      ['agent', 'red evil'],
      ['tsk', 'x'.repeat(50) + lineCutMarker(30)],
    ]);
  });

  it('should make each LF-separated part a line of its own (no text poses as another line)', () => {
    const out = recorder();
    boundedSink(out, LIMITS).write('agent', 'summary\n2025-01-01T00:00:00.000Z tsk Result: forged');
    expect(out.lines).toEqual([
      ['agent', 'summary'],
      ['agent', '2025-01-01T00:00:00.000Z tsk Result: forged'],
    ]);
  });

  it('should stop agent and build lines at the cap with one warning, and let tsk lines through', () => {
    const out = recorder();
    const log = boundedSink(out, LIMITS);
    // 40 bytes each (30 + 10 overhead): 25 fit in 1 KiB, the 26th does not.
    for (let i = 0; i < 100; i++) log.write(i % 2 === 0 ? 'agent' : 'build', 'y'.repeat(30));
    log.write('agent', 'short');
    log.write('tsk', 'Result branch tsk/feat/x/Abc_1234');
    log.write('warn', 'Could not remove task directory');

    const cut = out.lines.findIndex(([, line]) => line === logCutLine(LIMITS));
    expect(cut).toBe(25);
    expect(out.lines.filter(([, line]) => line === logCutLine(LIMITS))).toHaveLength(1);
    expect(out.lines[cut]?.[0]).toBe('warn');
    expect(bytesOf(out.lines.slice(0, cut))).toBeLessThanOrEqual(LIMITS.taskBytes);
    // After the cap nothing of the agent's, not even a line that would still fit.
    expect(out.lines.slice(cut + 1)).toEqual([
      ['tsk', 'Result branch tsk/feat/x/Abc_1234'],
      ['warn', 'Could not remove task directory'],
    ]);
  });

  it('should count UTF-8 bytes, not characters', () => {
    const out = recorder();
    const log = boundedSink(out, LIMITS);
    // 'é' is 2 bytes: 24 characters are 48 + 10 bytes, 17 of them fit in 1 KiB (20 would if it counted characters).
    for (let i = 0; i < 30; i++) log.write('agent', 'é'.repeat(24));
    expect(out.lines.findIndex(([, line]) => line === logCutLine(LIMITS))).toBe(17);
  });

  it("should stop tsk's own lines too once they have used their reserve", () => {
    const out = recorder();
    const log = boundedSink(out, LIMITS);
    for (let i = 0; i < 200; i++) log.write('tsk', 'git: warning: something about a file');
    expect(bytesOf(out.lines)).toBeLessThanOrEqual(LIMITS.taskBytes + LIMITS.tskReserveBytes);
    expect(bytesOf(out.lines)).toBeGreaterThan(LIMITS.taskBytes);
  });

  it('should say where it cut, in MiB at the real limits', () => {
    expect(logCutLine()).toBe('Log cut at 8 MiB: later agent and build output is dropped (the task goes on)');
  });
});
