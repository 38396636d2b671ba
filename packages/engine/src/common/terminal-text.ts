/**
 * Text from an agent, a build or Redis can carry terminal control: escape sequences that set the window
 * title, clear the screen, move the cursor, rewrite the clipboard (OSC 52) or forge hyperlinks, a carriage
 * return that overwrites what was printed, and bidi controls that make text read differently from what it
 * is. None of it may reach the user's terminal.
 */

/** OSC, DCS, SOS, PM, APC (7-bit `ESC ]`… or 8-bit C1): a string up to BEL or ST (`ESC \` or 0x9C). */
const STRING_SEQUENCE = String.raw`(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)`;
/** CSI (`ESC [` or 0x9B): parameters, intermediates, one final byte. */
const CSI_SEQUENCE = String.raw`(?:\x1b\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]`;
/** Any other escape sequence (`ESC (B`, `ESC c`, `ESC 7`…); also the introducer of an unterminated string. */
const ESC_SEQUENCE = String.raw`\x1b[\x20-\x2f]*[\x30-\x7e]`;
/** C0 controls but TAB and LF (so CR and a lone ESC), DEL, C1 controls, and the bidi embeddings and isolates. */
const CONTROL_CHARACTER = String.raw`[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]`;

const CONTROL = new RegExp(`${STRING_SEQUENCE}|${CSI_SEQUENCE}|${ESC_SEQUENCE}|${CONTROL_CHARACTER}`, 'g');

/**
 * `text` without terminal control: escape sequences are removed whole, then every control character left
 * (a lone ESC, CR, DEL, C1, bidi controls). TAB and LF stay: they cannot hide or overwrite anything; a
 * caller that needs one line splits on LF. Nothing it returns is a control character, so stripping
 * twice changes nothing.
 */
export function stripControl(text: string): string {
  return text.replace(CONTROL, '');
}

/** `text` as one line of plain text (a table cell, a status line): {@link stripControl}, and TAB and LF become spaces. */
export function oneLine(text: string): string {
  return stripControl(text).replace(/[\t\n]+/g, ' ');
}

/** Characters `JSON.stringify` leaves as they are that a terminal acts on: DEL, C1, bidi controls. */
const RAW_IN_JSON = /[\x7f-\x9f\u202a-\u202e\u2066-\u2069]/g;

/**
 * JSON text with the control characters `JSON.stringify` leaves raw written as `\uXXXX` escapes: the same
 * JSON value, safe to print on a terminal (JSON escapes C0, ESC included, itself).
 */
export function escapeControlInJson(json: string): string {
  return json.replace(RAW_IN_JSON, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
