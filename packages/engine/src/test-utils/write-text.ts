import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Write `text` to `path`, creating its folders; returns the path (configuration tests write many files). */
export async function writeText(path: string, text: string): Promise<string> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, text);
  return path;
}
