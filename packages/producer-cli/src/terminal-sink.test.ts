import { describe, expect, it } from 'vitest';
import { terminalSink } from './terminal-sink.js';

/** A stream that records what is written to it, a terminal or not. */
function fakeStream(isTTY: boolean): NodeJS.WriteStream & { text: string } {
  const stream = { isTTY, text: '', write: (chunk: string) => ((stream.text += chunk), true) };
  return stream as unknown as NodeJS.WriteStream & { text: string };
}

const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/;

describe('terminalSink', () => {
  it('should print lines from an agent or Redis without terminal control, one line per LF', () => {
    const out = fakeStream(false);
    const sink = terminalSink(out);
    sink.write('agent', '\x1b]0;pwned\x07\x1b[2J\x1b[31mred\x1b[0m \u202eevil\r');
    sink.write('tsk', 'first\nsecond');
    expect(out.text).toBe('red evil\n[tsk] first\n[tsk] second\n');
  });

  it("should keep tsk's own colours on a terminal, and only those", () => {
    const out = fakeStream(true);
    const sink = terminalSink(out);
    sink.write('warn', 'careful\x1b[5m');
    sink.write('agent', '\x1b[31mred');
    expect(out.text).toBe('\x1b[33mWarning: careful\x1b[0m\nred\n');
    expect(out.text.replaceAll('\x1b[33m', '').replaceAll('\x1b[0m', '')).not.toMatch(CONTROL);
  });
});
