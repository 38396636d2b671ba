import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { folderExists } from './folder-exists.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tsk-folder-exists-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

it('is true for a folder and a link to one, false for a file, a dangling link and nothing', async () => {
  await writeFile(join(dir, 'file'), 'x');
  await symlink(dir, join(dir, 'to-folder'));
  await symlink(join(dir, 'missing'), join(dir, 'dangling'));
  expect(await folderExists(dir)).toBe(true);
  expect(await folderExists(join(dir, 'to-folder'))).toBe(true);
  expect(await folderExists(join(dir, 'file'))).toBe(false);
  expect(await folderExists(join(dir, 'dangling'))).toBe(false);
  expect(await folderExists(join(dir, 'missing'))).toBe(false);
  expect(await folderExists(join(dir, 'file', 'below'))).toBe(false);
});
