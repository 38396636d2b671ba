import { randomUUID } from 'node:crypto';
import { open, readFile, rename, rm, unlink } from 'node:fs/promises';
import { errorCode } from './error-code.js';

export interface AtomicWriteOptions {
  /** @defaultValue 0600: what tsk keeps beside its locks and records, logins and sessions is the user's alone */
  mode?: number;
  /** Flush the file to disk before it is put in place (a record that must survive a crash of the machine). */
  sync?: boolean;
}

/**
 * Write `data` to a temporary file beside `path` and rename it into place, so a reader sees the old file
 * or the new one, never half of one; the temporary file is removed when either step fails. The temporary
 * name ends in `.tmp`: a reader that lists the folder by the files' own suffix never takes it for one.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): Promise<void> {
  const temporary = `${path}.${randomUUID()}.tmp`;
  try {
    // 'wx': a file of that name that is already there (planted, or another writer's) is never written through.
    const handle = await open(temporary, 'wx', options.mode ?? 0o600);
    try {
      await handle.writeFile(data);
      if (options.sync === true) await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true }).catch(() => undefined);
    throw error;
  }
}

/** A file's text, or undefined when there is no such file (any other error is thrown). */
export async function readTextIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw error;
  }
}

/** Remove a file; none is fine (any other error is thrown). */
export async function removeIfExists(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (error) {
    if (errorCode(error) !== 'ENOENT') throw error;
  }
}
