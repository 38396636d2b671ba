import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { detectStack, stackFromFileNames } from './stack-detection.js';

describe('detectStack', () => {
  let repo: string;

  beforeEach(async () => {
    repo = await mkdtemp(join(tmpdir(), 'tsk-stack-'));
  });
  afterEach(async () => {
    await rm(repo, { recursive: true, force: true });
  });

  async function files(...names: string[]): Promise<void> {
    for (const name of names) await writeFile(join(repo, name), '');
  }

  it.each([
    ['Cargo.toml', 'rust'],
    ['pyproject.toml', 'python'],
    ['requirements.txt', 'python'],
    ['setup.py', 'python'],
    ['package.json', 'node'],
    ['go.mod', 'go'],
    ['pom.xml', 'java'],
    ['build.gradle', 'java'],
    ['build.gradle.kts', 'java'],
    ['my-lib-1.0-1.rockspec', 'lua'],
    ['init.lua', 'lua'],
  ])('should detect %s as %s', async (file, stack) => {
    await files(file, 'README.md');
    expect(await detectStack(repo)).toBe(stack);
  });

  it('should fall back to default when no marker file exists', async () => {
    await files('README.md', 'Makefile', 'main.c');
    expect(await detectStack(repo)).toBe('default');
  });

  it('should look at the repository root only', async () => {
    await mkdir(join(repo, 'frontend'));
    await writeFile(join(repo, 'frontend', 'package.json'), '{}');
    await mkdir(join(repo, 'Cargo.toml')); // a directory is not a manifest
    expect(await detectStack(repo)).toBe('default');
  });

  it('should prefer rust over python over node over go over java over lua', async () => {
    await files('init.lua', 'pom.xml', 'go.mod', 'package.json', 'requirements.txt', 'Cargo.toml');
    expect(await detectStack(repo)).toBe('rust');
    expect(stackFromFileNames(['init.lua', 'pom.xml', 'go.mod', 'package.json', 'setup.py'])).toBe('python');
    expect(stackFromFileNames(['init.lua', 'pom.xml', 'go.mod', 'package.json'])).toBe('node');
    expect(stackFromFileNames(['init.lua', 'build.gradle', 'go.mod'])).toBe('go');
    expect(stackFromFileNames(['x.rockspec', 'build.gradle.kts'])).toBe('java');
  });

  it('should reject when the repository does not exist', async () => {
    await expect(detectStack(join(repo, 'missing'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
