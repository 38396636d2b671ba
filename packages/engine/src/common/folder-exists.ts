import { stat } from 'node:fs/promises';

/**
 * Whether `path` is a folder now (a symbolic link to one counts). Anything else there, nothing there or a
 * path that cannot be read is `false`: callers make the folder, or act on its absence, instead.
 */
export async function folderExists(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}
