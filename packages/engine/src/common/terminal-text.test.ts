import { describe, expect, it } from 'vitest';
import { escapeControlInJson, oneLine, stripControl } from './terminal-text.js';

const ESC = '\x1b';
const BEL = '\x07';
const ST = `${ESC}\\`;

/** Every character a terminal acts on, besides TAB and LF. */
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/;

describe('stripControl', () => {
  it('should remove CSI sequences whole: colours, clear screen, cursor moves, 8-bit CSI', () => {
    expect(stripControl(`${ESC}[31mred${ESC}[0m`)).toBe('red');
    expect(stripControl(`${ESC}[2J${ESC}[H${ESC}[?25lhidden cursor${ESC}[1;31;4m!`)).toBe('hidden cursor!');
    expect(stripControl('\x9b31mred\x9b0m')).toBe('red');
  });

  it('should remove OSC sequences whole, ended by BEL or by ST: title, hyperlink, clipboard', () => {
    expect(stripControl(`${ESC}]0;pwned${BEL}after`)).toBe('after');
    expect(stripControl(`${ESC}]8;;https://evil.example${ST}click${ESC}]8;;${ST}`)).toBe('click');
    expect(stripControl(`${ESC}]52;c;cm0gLXJmIH4=${BEL}text`)).toBe('text');
    expect(stripControl('\x9d0;title\x9cafter')).toBe('after');
  });

  it('should remove DCS, APC and other escape sequences, and a lone ESC', () => {
    expect(stripControl(`${ESC}P1$r0m${ST}a${ESC}_payload${ST}b`)).toBe('ab');
    expect(stripControl(`${ESC}c${ESC}(B${ESC}7x${ESC}8`)).toBe('x');
    expect(stripControl(`lone ${ESC}`)).toBe('lone ');
  });

  it('should keep the text of an unterminated OSC but not its introducer', () => {
    expect(stripControl(`${ESC}]0;never ended`)).toBe('0;never ended');
  });

  it('should remove CR, BEL, backspace, DEL and C1 controls', () => {
    expect(stripControl('rm -rf /\rls -l')).toBe('rm -rf /ls -l');
    expect(stripControl(`a${BEL}b\bc\x7fd\x85e\x9b`)).toBe('abcde');
  });

  it('should remove bidi embeddings, overrides and isolates', () => {
    const text = 'access\u202e\u2066 // admin only\u2069\u2066\u202a\u202b\u202c\u202d\u2067\u2068';
    expect(stripControl(text)).toBe('access // admin only');
  });

  it('should keep TAB, LF and printable text in any script', () => {
    const text = 'col1\tcol2\nnext line: é ß → 😀 שלום עולם';
    expect(stripControl(text)).toBe(text);
  });

  it('should leave no control character, whatever it is given, and change nothing the second time', () => {
    const alphabet = [ESC, '[', ']', 'P', '\\', BEL, '\x9b', '\x9c', '\x9d', '\r', '\n', '\t', '\x00', '\x7f', '\u202e', '\u2066', 'a', '0', ';', ' ', 'm', 'é'];
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let round = 0; round < 2000; round++) {
      const text = Array.from({ length: 1 + Math.floor(random() * 30) }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
      const stripped = stripControl(text);
      expect(stripped, JSON.stringify(text)).not.toMatch(CONTROL);
      expect(stripControl(stripped)).toBe(stripped);
    }
  });
});

describe('oneLine', () => {
  it('should make any value one line of plain text', () => {
    expect(oneLine('a\tb\n\nc\x1b[1md\x9b')).toBe('a b cd');
  });
});

describe('escapeControlInJson', () => {
  it('should escape what JSON.stringify leaves raw, and describe the same value', () => {
    const value = { line: `a\x7fb\x9b31mc\u202ed${ESC}[0m`, n: 1 };
    const json = escapeControlInJson(JSON.stringify(value, undefined, 2));
    expect(json).not.toMatch(CONTROL);
    expect(json).toContain('\\u009b');
    expect(JSON.parse(json)).toEqual(value);
  });
});
