import { mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readTextIfExists, removeIfExists, writeFileAtomic } from './atomic-file.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tsk-atomic-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('writeFileAtomic', () => {
  it('replaces a file whole, private by default, and leaves no temporary file', async () => {
    const file = join(dir, 'record.json');
    await writeFileAtomic(file, 'old\n');
    await writeFileAtomic(file, 'new\n', { sync: true });
    expect(await readFile(file, 'utf8')).toBe('new\n');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await readdir(dir)).toEqual(['record.json']);
  });

  it('writes bytes as they are, with the mode asked for', async () => {
    const file = join(dir, 'transcript.jsonl');
    const bytes = Buffer.from([0, 255, 10, 13, 0xc3]);
    await writeFileAtomic(file, bytes, { mode: 0o640 });
    expect(Buffer.compare(await readFile(file), bytes)).toBe(0);
    expect((await stat(file)).mode & 0o777).toBe(0o640 & ~process.umask());
  });

  it('removes its temporary file when the rename fails, and the old content stays', async () => {
    // A folder in the way: the write succeeds, the rename cannot replace a non-empty folder.
    const target = join(dir, 'in-the-way');
    await mkdir(join(target, 'child'), { recursive: true });
    await expect(writeFileAtomic(target, 'x')).rejects.toThrow();
    expect((await readdir(dir)).sort()).toEqual(['in-the-way']);
    expect(await readdir(target)).toEqual(['child']);
  });
});

describe('readTextIfExists and removeIfExists', () => {
  it('take a missing file as nothing, and throw for anything else', async () => {
    const file = join(dir, 'gone');
    expect(await readTextIfExists(file)).toBeUndefined();
    await removeIfExists(file);
    await writeFileAtomic(file, 'here');
    expect(await readTextIfExists(file)).toBe('here');
    await removeIfExists(file);
    expect(await readTextIfExists(file)).toBeUndefined();
    await expect(readTextIfExists(dir)).rejects.toThrow();
  });
});
