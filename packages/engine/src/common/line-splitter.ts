import { StringDecoder } from 'node:string_decoder';

/** What replaces the part of a line beyond the limit, so a reader sees that something was left out. */
export function lineCutMarker(moreChars: number): string {
  return ` … [line cut: ${moreChars} more characters]`;
}

const CUT_MARKER_AT_END = / … \[line cut: (\d+) more characters\]$/;

/** Where to end the first `maxChars` UTF-16 units of `text` without splitting a surrogate pair. */
function cutIndex(text: string, maxChars: number): number {
  const code = text.charCodeAt(maxChars - 1);
  return code >= 0xd800 && code <= 0xdbff ? maxChars - 1 : maxChars;
}

/**
 * `line` when it is at most `maxChars` long, else its first `maxChars` characters and a cut marker. A line
 * that was already cut (it ends with a marker) keeps one marker counting everything left out.
 */
export function cutLine(line: string, maxChars: number): string {
  if (line.length <= maxChars) return line;
  const marker = CUT_MARKER_AT_END.exec(line);
  const body = marker ? line.slice(0, marker.index) : line;
  const earlier = marker ? Number(marker[1]) : 0;
  if (body.length <= maxChars) return line;
  const end = cutIndex(body, maxChars);
  return body.slice(0, end) + lineCutMarker(body.length - end + earlier);
}

export interface LineSplitterOptions {
  /** Longest line kept: the rest of a longer line is counted, then dropped, never held in memory. */
  maxChars: number;
  /**
   * What a lone `\r` does: `break` ends the line (progress of git and debootstrap, one line per frame);
   * `overwrite` starts the line over, as on a terminal, so a progress bar leaves its last frame.
   * @defaultValue it stays in the line
   */
  carriageReturn?: 'break' | 'overwrite';
}

/**
 * Splits output that arrives in pieces into lines (`\n`, `\r\n`, optionally `\r`) and holds at most
 * `maxChars` characters of an unfinished line: a longer line is delivered cut, with {@link lineCutMarker},
 * once its end arrives. Output of a container or process can be a single line of any length, and it must
 * not grow in the memory of the process reading it. Bytes are decoded as UTF-8 across pieces, so a
 * character split between two chunks stays whole.
 */
export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';
  /** Characters of the current line beyond `maxChars`, already dropped. */
  private dropped = 0;
  /** `overwrite`: a `\r` ended the frame in `pending`; the next visible text replaces it. */
  private frameEnded = false;
  private readonly breaks: RegExp;

  constructor(
    private readonly onLine: (line: string) => void,
    private readonly options: LineSplitterOptions,
  ) {
    this.breaks = options.carriageReturn === undefined ? /\n/g : /\r\n|\n|\r/g;
  }

  /** Take the next piece: bytes (UTF-8) or text. */
  push(chunk: Buffer | string): void {
    const text = typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    const breaks = new RegExp(this.breaks);
    let start = 0;
    for (let match = breaks.exec(text); match !== null; match = breaks.exec(text)) {
      this.append(text.slice(start, match.index));
      if (match[0] === '\r' && this.options.carriageReturn === 'overwrite') this.frameEnded = true;
      else this.emit();
      start = match.index + match[0].length;
    }
    this.append(text.slice(start));
  }

  /** Deliver the unterminated rest, if any. */
  end(): void {
    const rest = this.decoder.end();
    if (rest.length > 0) this.push(rest);
    if (this.pending.length > 0 || this.dropped > 0) this.emit();
  }

  private append(part: string): void {
    if (part.length === 0) return;
    if (this.frameEnded) {
      // Blank text does not hide the last frame (a bar that clears itself before the newline).
      if (part.trim() === '') return;
      this.pending = '';
      this.dropped = 0;
      this.frameEnded = false;
    }
    if (this.dropped > 0) {
      this.dropped += part.length;
      return;
    }
    const room = this.options.maxChars - this.pending.length;
    if (part.length <= room) {
      this.pending += part;
      return;
    }
    const end = room > 0 ? cutIndex(part, room) : 0;
    this.pending += part.slice(0, end);
    this.dropped = part.length - end;
  }

  private emit(): void {
    // `\r\n` split over two pieces, or a `\r` that was the last character kept.
    let line = this.pending.endsWith('\r') && this.dropped === 0 ? this.pending.slice(0, -1) : this.pending;
    if (this.dropped > 0) line += lineCutMarker(this.dropped);
    this.pending = '';
    this.dropped = 0;
    this.frameEnded = false;
    this.onLine(line);
  }
}
