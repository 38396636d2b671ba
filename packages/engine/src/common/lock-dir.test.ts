import { chmod, chown, mkdir, mkdtemp, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../errors/index.js';
import { ensureDockerLockDir, lockDirProblem } from './lock-dir.js';

describe('ensureDockerLockDir', () => {
  let scratch: string;

  beforeEach(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'tsk-lockdir-'));
  });
  afterEach(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  /** The environment of a user whose data dir is in the scratch folder, TSK_LOCK_DIR as given. */
  function env(lockDir?: string): NodeJS.ProcessEnv {
    return { HOME: join(scratch, 'home'), TSK_DATA_HOME: join(scratch, 'data'), ...(lockDir === undefined ? {} : { TSK_LOCK_DIR: lockDir }) };
  }

  it('should create the default folder under the data dir, mode 0700, owned by us', async () => {
    const dir = await ensureDockerLockDir(env());
    expect(dir).toBe(join(scratch, 'data', 'tsk', 'locks'));
    const stats = await stat(dir);
    expect(stats.isDirectory()).toBe(true);
    expect(stats.mode & 0o7777).toBe(0o700);
    expect(stats.uid).toBe(process.getuid!());
    // Again: an existing, safe folder is fine.
    await expect(ensureDockerLockDir(env())).resolves.toBe(dir);
  });

  it('should fall back to ~/.local/share/tsk/locks without TSK_DATA_HOME or XDG_DATA_HOME', async () => {
    await expect(ensureDockerLockDir({ HOME: join(scratch, 'home') })).resolves.toBe(join(scratch, 'home', '.local', 'share', 'tsk', 'locks'));
  });

  it('should create a missing TSK_LOCK_DIR with mode 0700 and use it', async () => {
    const dir = join(scratch, 'shared', 'locks');
    await expect(ensureDockerLockDir(env(dir))).resolves.toBe(dir);
    expect((await stat(dir)).mode & 0o7777).toBe(0o700);
  });

  it('should refuse a TSK_LOCK_DIR that other users may write to without the sticky bit, naming it and what to do', async () => {
    const dir = join(scratch, 'open');
    await mkdir(dir);
    await chmod(dir, 0o777);
    const failure = await ensureDockerLockDir(env(dir)).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ConfigError);
    expect((failure as ConfigError).message).toBe(
      `Lock folder ${dir} (TSK_LOCK_DIR) is writable by other users without the sticky bit (another user could block or break tsk's locks there)`,
    );
    expect((failure as ConfigError).hint).toMatch(/chmod go-w.*unset TSK_LOCK_DIR/);
    // tsk does not repair (or open up) a folder it did not make.
    expect((await stat(dir)).mode & 0o7777).toBe(0o777);

    await chmod(dir, 0o775);
    await expect(ensureDockerLockDir(env(dir))).rejects.toThrow(/writable by other users/);
  });

  it('should accept a shared TSK_LOCK_DIR with the sticky bit (others cannot remove or replace our files there)', async () => {
    const dir = join(scratch, 'sticky');
    await mkdir(dir);
    await chmod(dir, 0o1777);
    await expect(ensureDockerLockDir(env(dir))).resolves.toBe(dir);
  });

  it('should refuse a TSK_LOCK_DIR that is a symbolic link, even to a safe folder', async () => {
    const target = join(scratch, 'target');
    await mkdir(target, { mode: 0o700 });
    const link = join(scratch, 'link');
    await symlink(target, link);
    await expect(ensureDockerLockDir(env(link))).rejects.toThrow(`Lock folder ${link} (TSK_LOCK_DIR) is a symbolic link`);
  });

  it('should refuse a default folder that is a symbolic link or not a directory', async () => {
    await mkdir(join(scratch, 'data', 'tsk'), { recursive: true });
    await writeFile(join(scratch, 'data', 'tsk', 'locks'), '');
    await expect(ensureDockerLockDir(env())).rejects.toThrow(`Lock folder ${join(scratch, 'data', 'tsk', 'locks')} is not a directory`);
    await rm(join(scratch, 'data', 'tsk', 'locks'));
    await symlink(tmpdir(), join(scratch, 'data', 'tsk', 'locks'));
    await expect(ensureDockerLockDir(env())).rejects.toThrow(/is a symbolic link/);
  });

  it.runIf(process.getuid?.() === 0)("should refuse a folder owned by another user who is not root, however closed", async () => {
    const dir = join(scratch, 'theirs');
    await mkdir(dir, { mode: 0o700 });
    await chown(dir, 65534, 65534);
    await expect(ensureDockerLockDir(env(dir))).rejects.toThrow(`Lock folder ${dir} (TSK_LOCK_DIR) belongs to uid 65534`);
  });
});

describe('lockDirProblem', () => {
  const dir = { isSymbolicLink: () => false, isDirectory: () => true, uid: 1000, mode: 0o40700 };

  it('should accept our own or root-owned folders that only the owner (or sticky-bit rules) lets write', () => {
    expect(lockDirProblem(dir, 1000)).toBeUndefined();
    expect(lockDirProblem({ ...dir, uid: 0, mode: 0o40755 }, 1000)).toBeUndefined();
    expect(lockDirProblem({ ...dir, uid: 0, mode: 0o41777 }, 1000)).toBeUndefined();
  });

  it("should refuse another non-root user's folder, and group- or world-writable ones without the sticky bit", () => {
    expect(lockDirProblem({ ...dir, uid: 1001 }, 1000)?.what).toMatch(/^belongs to uid 1001/);
    expect(lockDirProblem({ ...dir, uid: 1000 }, 0)?.what).toMatch(/^belongs to uid 1000/);
    expect(lockDirProblem({ ...dir, mode: 0o40770 }, 1000)?.what).toMatch(/^is writable by other users/);
    expect(lockDirProblem({ ...dir, uid: 0, mode: 0o40777 }, 1000)?.what).toMatch(/^is writable by other users/);
  });
});
