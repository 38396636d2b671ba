import { chmod, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../errors/index.js';
import { isolateGitConfig, makeRepo, tempDir, writeFiles } from '../../test-utils/git-fixtures.js';
import { collectProjectFiles } from './project-files.js';

const names = async (root: string, setup: string) => (await collectProjectFiles(root, setup)).map((file) => file.name);

describe('collectProjectFiles (real git)', () => {
  let repo: string;

  beforeEach(async () => {
    await isolateGitConfig();
    repo = await makeRepo({
      '.gitignore': '.env\nbuild/\n',
      'package.json': '{}',
      'Dockerfile': 'FROM scratch\n',
      'src/a.js': 'a',
      'src/lib/b.js': 'b',
      'scripts/setup.sh': '#!/bin/sh\necho hi\n',
      'docs/x.md': 'x',
    });
    await writeFiles(repo, { '.env': 'SECRET=1', 'build/out.js': 'built', 'untracked.txt': 'new' });
  });

  it('should collect nothing when setup copies nothing', async () => {
    expect(await collectProjectFiles(repo, undefined)).toEqual([]);
    expect(await collectProjectFiles(repo, 'RUN true')).toEqual([]);
  });

  it('should collect files and folders named by COPY, at their repository paths', async () => {
    expect(await names(repo, 'COPY package.json Dockerfile /app/\nCOPY src /app/src')).toEqual([
      'Dockerfile',
      'package.json',
      'src/a.js',
      'src/lib/b.js',
    ]);
  });

  it('should read untracked files but never ignored ones or .git', async () => {
    const all = await names(repo, 'COPY . /src');
    expect(all).toContain('untracked.txt');
    expect(all).not.toContain('.env');
    expect(all.some((name) => name.startsWith('build/') || name.startsWith('.git/'))).toBe(false);
  });

  it('should match Docker wildcards, a folder match taking everything under it', async () => {
    expect(await names(repo, 'COPY *.json /app/')).toEqual(['package.json']);
    expect(await names(repo, 'COPY s* /app/')).toEqual(['scripts/setup.sh', 'src/a.js', 'src/lib/b.js']);
    expect(await names(repo, 'COPY src/*/b.js /app/')).toEqual(['src/lib/b.js']);
  });

  it('should keep bytes and the executable bit', async () => {
    await chmod(join(repo, 'scripts/setup.sh'), 0o755);
    const [file] = await collectProjectFiles(repo, 'COPY ./scripts/setup.sh /usr/local/bin/');
    expect(file).toEqual({ name: 'scripts/setup.sh', content: Buffer.from('#!/bin/sh\necho hi\n'), mode: 0o755 });
  });

  it('should follow a symlink inside the repository and skip one that leaves it', async () => {
    const outside = await tempDir();
    await writeFiles(outside, { 'secret.txt': 'host secret' });
    await symlink(join(outside, 'secret.txt'), join(repo, 'docs/leak.txt'));
    await symlink('x.md', join(repo, 'docs/alias.md'));
    expect(await names(repo, 'COPY docs /docs')).toEqual(['docs/alias.md', 'docs/x.md']);
  });

  it('should name a source that matches nothing, or leaves the repository', async () => {
    await expect(collectProjectFiles(repo, 'COPY .env /app/')).rejects.toThrow(`setup: COPY source ".env" matches no file in ${repo}`);
    await expect(collectProjectFiles(repo, 'COPY ../x /app/')).rejects.toThrow(ConfigError);
    await expect(collectProjectFiles(repo, 'COPY ../x /app/')).rejects.toThrow('setup: COPY source "../x" is outside the repository');
  });
});
