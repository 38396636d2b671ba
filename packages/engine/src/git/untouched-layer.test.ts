import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readLayerChanges } from './layer-changes.js';
import { untouchedLayer } from './result.js';

const BRANCH = 'tsk/generic/hello/AbC12345';
const BASE = 'a'.repeat(40);

describe('untouchedLayer', () => {
  let root: string;
  let upper: string;
  let base: string;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'tsk-untouched-'));
    upper = join(root, 'upper');
    base = join(root, 'base');
    await mkdir(base);
    // What TaskWorkspace writes into a layer before the sandbox runs.
    await mkdir(join(upper, '.git', 'refs', 'heads', 'tsk', 'generic', 'hello'), { recursive: true });
    await writeFile(join(upper, '.git', 'HEAD'), `ref: refs/heads/${BRANCH}\n`);
    await writeFile(join(upper, '.git', 'refs', 'heads', ...BRANCH.split('/')), `${BASE}\n`);
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  const untouched = async (branch = BRANCH, commit = BASE) => untouchedLayer(upper, await readLayerChanges(upper, base), branch, commit);

  it('should say so for a layer holding only the branch tsk wrote, at the base commit', async () => {
    expect(await untouched()).toBe(true);
  });

  it('should not for a file of the work tree, another file in .git, or a moved branch', async () => {
    expect(await untouched(BRANCH, 'b'.repeat(40))).toBe(false);
    expect(await untouched('tsk/generic/other/AbC12345')).toBe(false);
    await writeFile(join(upper, '.git', 'index'), 'DIRC');
    expect(await untouched()).toBe(false);
    await rm(join(upper, '.git', 'index'));
    await writeFile(join(upper, '.git', 'refs', 'heads', 'tsk', 'generic', 'hello', 'AbC12345'), `${'c'.repeat(40)}\n`);
    expect(await untouched()).toBe(false);
    await writeFile(join(upper, '.git', 'refs', 'heads', 'tsk', 'generic', 'hello', 'AbC12345'), `${BASE}\n`);
    await writeFile(join(upper, 'new.txt'), 'new\n');
    expect(await untouched()).toBe(false);
  });

  it('should not when HEAD is a link or the ref is gone', async () => {
    await rm(join(upper, '.git', 'HEAD'));
    expect(await untouched()).toBe(false);
    await symlink(join(root, 'elsewhere'), join(upper, '.git', 'HEAD'));
    expect(await untouched()).toBe(false);
  });
});
