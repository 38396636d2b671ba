import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { cutLine, lineCutMarker, LineSplitter, type LineSplitterOptions } from './line-splitter.js';
import { lineWriter } from './line-writer.js';

const CAP = 1000;

/** Feed `pieces` to a splitter and return the lines it delivered (after `end()`). */
function split(pieces: (string | Buffer)[], options: Partial<LineSplitterOptions> = {}): string[] {
  const lines: string[] = [];
  const splitter = new LineSplitter((line) => lines.push(line), { maxChars: CAP, ...options });
  for (const piece of pieces) splitter.push(piece);
  splitter.end();
  return lines;
}

/** `text` in pieces of `size` characters, as a stream would deliver it. */
function pieces(text: string, size: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

describe('lineWriter', () => {
  it('should deliver a line of ten times the cap, sent without a newline, cut to the cap with a marker, and the next line whole', async () => {
    const lines: string[] = [];
    const writer = lineWriter((line) => lines.push(line), { maxChars: CAP });
    // 10x the cap in chunks smaller than the cap, no newline until the very end of the long line.
    for (const chunk of pieces('a'.repeat(10 * CAP), 64)) writer.write(Buffer.from(chunk));
    writer.write(Buffer.from('\nnext line\nunterminated'));
    writer.end();
    await once(writer, 'finish');

    expect(lines).toHaveLength(3);
    // What it kept of the long line is the cap, exactly; the marker counts the 9x it dropped.
    expect(lines[0]).toBe('a'.repeat(CAP) + lineCutMarker(9 * CAP));
    expect(lines[1]).toBe('next line');
    expect(lines[2]).toBe('unterminated');
  });

  it('should deliver a long line cut even when it never ends (the writer ends first)', async () => {
    const lines: string[] = [];
    const writer = lineWriter((line) => lines.push(line), { maxChars: CAP });
    writer.end(Buffer.from('b'.repeat(3 * CAP + 7)));
    await once(writer, 'finish');
    expect(lines).toEqual(['b'.repeat(CAP) + lineCutMarker(2 * CAP + 7)]);
  });

  it('should keep a multibyte character that a chunk boundary splits', async () => {
    const lines: string[] = [];
    const writer = lineWriter((line) => lines.push(line), { maxChars: CAP });
    const bytes = Buffer.from('é→😀\n', 'utf8');
    // One byte at a time: every character is split across chunks.
    for (const byte of bytes) writer.write(Buffer.from([byte]));
    writer.end();
    await once(writer, 'finish');
    expect(lines).toEqual(['é→😀']);
  });
});

describe('LineSplitter', () => {
  it('should split on LF and CRLF, also when CR and LF arrive in different pieces', () => {
    expect(split(['one\r\ntwo\nthr', 'ee\r', '\nfour'])).toEqual(['one', 'two', 'three', 'four']);
  });

  it('should never cut between the two halves of a surrogate pair', () => {
    const [line] = split(['x'.repeat(CAP - 1) + '😀' + 'y'.repeat(10) + '\n']);
    // The emoji would straddle the cap: it goes whole, with the rest.
    expect(line).toBe('x'.repeat(CAP - 1) + lineCutMarker(12));
  });

  it("with carriageReturn 'break', should end a line at a lone CR (git progress)", () => {
    expect(split(['Receiving 10%\rReceiving 100%, done.\nnext\n'], { carriageReturn: 'break' })).toEqual([
      'Receiving 10%',
      'Receiving 100%, done.',
      'next',
    ]);
  });

  it("with carriageReturn 'overwrite', should keep a progress bar's last frame, however many frames it drew", () => {
    const frames = Array.from({ length: 5 * CAP }, (_, i) => `${i}%`).join('\r');
    expect(split([...pieces(frames, 100), '\r  \r', '\nafter\n'], { carriageReturn: 'overwrite' })).toEqual([`${5 * CAP - 1}%`, 'after']);
  });
});

describe('cutLine', () => {
  it('should leave a line within the cap as it is', () => {
    expect(cutLine('short', 5)).toBe('short');
  });

  it('should cut a longer line with a marker counting what it left out', () => {
    expect(cutLine('abcdefgh', 3)).toBe(`abc${lineCutMarker(5)}`);
  });

  it('should cut a line that was already cut with one marker counting everything left out', () => {
    const once_ = cutLine('x'.repeat(100), 50);
    expect(cutLine(once_, 10)).toBe('x'.repeat(10) + lineCutMarker(90));
  });
});
