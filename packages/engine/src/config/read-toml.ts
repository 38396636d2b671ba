import { readFile } from 'node:fs/promises';
import { parse, TomlError } from 'smol-toml';
import { ConfigError } from '../errors/index.js';

function isErrnoException(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && 'code' in error;
}

/**
 * Reads and parses a TOML file. A missing file is not an error (every file is optional) and gives
 * `undefined`; a file that cannot be read or parsed is a {@link ConfigError} of the form
 * `<file>:<line>: invalid TOML: <reason>`.
 */
export async function readTomlFile(file: string): Promise<Record<string, unknown> | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if (isErrnoException(error) && error.code === 'ENOENT') return undefined;
    const reason = isErrnoException(error) ? (error.code ?? error.message) : String(error);
    throw new ConfigError(`${file}: cannot read the configuration file (${reason})`, { cause: error });
  }
  try {
    return parse(text);
  } catch (error) {
    if (!(error instanceof TomlError)) throw error;
    // smol-toml's message is "Invalid TOML document: <reason>" followed by a code excerpt; keep the reason.
    const reason = error.message.split('\n')[0]?.replace(/^Invalid TOML document:\s*/, '') ?? error.message;
    throw new ConfigError(`${file}:${error.line}: invalid TOML: ${reason}`, { cause: error });
  }
}
