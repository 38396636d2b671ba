import { execFileSync } from 'node:child_process';
import { mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { borrowedObjectDirs } from './borrowed-objects.js';

describe('borrowedObjectDirs', () => {
  let scratch: string;
  afterEach(async () => rm(scratch, { recursive: true, force: true }));

  const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, stdio: 'pipe' });

  it('follows a --shared clone of a --reference clone to both lenders, each once, and nothing for a plain repository', async () => {
    scratch = await realpath(await mkdtemp(join(tmpdir(), 'tsk-borrowed-')));
    git(scratch, 'init', '-q', 'lender');
    git(join(scratch, 'lender'), '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '--allow-empty', '-m', 'one');
    git(scratch, 'clone', '-q', '--shared', 'lender', 'middle');
    git(scratch, 'clone', '-q', '--shared', 'middle', 'user');
    // A relative entry, a comment, a missing directory and a repeat, as alternates files may hold.
    await writeFile(join(scratch, 'user/.git/objects/info/alternates'), `# mine\n../../../middle/.git/objects\n/nonexistent/objects\n${scratch}/middle/.git/objects\n`);

    expect(await borrowedObjectDirs(join(scratch, 'user/.git/objects'))).toEqual([join(scratch, 'middle/.git/objects'), join(scratch, 'lender/.git/objects')]);
    expect(await borrowedObjectDirs(join(scratch, 'lender/.git/objects'))).toEqual([]);
  });

  it('stops at a loop', async () => {
    scratch = await realpath(await mkdtemp(join(tmpdir(), 'tsk-borrowed-')));
    git(scratch, 'init', '-q', 'a');
    git(scratch, 'init', '-q', 'b');
    await writeFile(join(scratch, 'a/.git/objects/info/alternates'), `${scratch}/b/.git/objects\n`);
    await writeFile(join(scratch, 'b/.git/objects/info/alternates'), `${scratch}/a/.git/objects\n`);
    expect(await borrowedObjectDirs(join(scratch, 'a/.git/objects'))).toEqual([join(scratch, 'b/.git/objects')]);
  });
});
