import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { allowedHostNames, cookieOf, isLoopback, parseHostHeader, sameSecret, sessionValue } from './security.js';
import { checkBinding, readDashboardToken } from './token.js';

describe('dashboard security rules', () => {
  it('knows loopback from the rest', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]']) expect(isLoopback(host), host).toBe(true);
    for (const host of ['0.0.0.0', '::', '192.168.1.5', 'tsk.example', '128.0.0.1']) expect(isLoopback(host), host).toBe(false);
  });

  it('allows the bound address, loopback names when loopback reaches it, and [dashboard] hosts', () => {
    expect([...allowedHostNames('127.0.0.1', [])].sort()).toEqual(['127.0.0.1', '::1', 'localhost']);
    expect([...allowedHostNames('192.168.1.5', ['TSK.example'])].sort()).toEqual(['192.168.1.5', 'tsk.example']);
    // A wildcard names no host: only loopback names and the configured ones.
    expect([...allowedHostNames('0.0.0.0', ['tsk.example'])].sort()).toEqual(['127.0.0.1', '::1', 'localhost', 'tsk.example']);
  });

  it('parses Host headers and refuses malformed ones', () => {
    expect(parseHostHeader('127.0.0.1:7777')).toEqual({ name: '127.0.0.1', port: 7777 });
    expect(parseHostHeader('[::1]:80')).toEqual({ name: '::1', port: 80 });
    expect(parseHostHeader('Tsk.Example')).toEqual({ name: 'tsk.example', port: undefined });
    for (const bad of [undefined, '', 'a b', 'evil.example@127.0.0.1', 'x:y', 'host:7777:1']) expect(parseHostHeader(bad), String(bad)).toBeUndefined();
  });

  it('derives the cookie from the token without holding it, and compares secrets of any length', () => {
    const value = sessionValue('a-token-of-some-length');
    expect(value).not.toContain('a-token');
    expect(sessionValue('another-token-of-length')).not.toBe(value);
    expect(sameSecret(value, value)).toBe(true);
    expect(sameSecret(value.slice(1), value)).toBe(false);
    expect(sameSecret('', value)).toBe(false);
    expect(cookieOf('a=1; tsk_session=xyz; b=2', 'tsk_session')).toBe('xyz');
    expect(cookieOf('tsk_sessionx=1', 'tsk_session')).toBeUndefined();
  });

  it('reads the token from the environment, else a private file, and refuses short tokens and open files', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tsk-token-'));
    try {
      const file = join(dir, 'token');
      await writeFile(file, 'file-token-0123456789\nignored\n', { mode: 0o600 });
      expect(await readDashboardToken(file, {})).toBe('file-token-0123456789');
      expect(await readDashboardToken(file, { TSK_DASHBOARD_TOKEN: 'env-token-0123456789' })).toBe('env-token-0123456789');
      expect(await readDashboardToken(undefined, {})).toBeUndefined();
      await expect(readDashboardToken(undefined, { TSK_DASHBOARD_TOKEN: 'short' })).rejects.toThrow(/too short/);
      await chmod(file, 0o644);
      await expect(readDashboardToken(file, {})).rejects.toThrow(/readable by others/);
      await expect(readDashboardToken(join(dir, 'missing'), {})).rejects.toThrow(/cannot read the dashboard's token file \(ENOENT\)/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses to bind beyond loopback without a token', () => {
    expect(() => checkBinding('127.0.0.1', undefined)).not.toThrow();
    expect(() => checkBinding('0.0.0.0', 'x'.repeat(20))).not.toThrow();
    expect(() => checkBinding('0.0.0.0', undefined)).toThrow(/needs a token/);
    expect(() => checkBinding('192.168.1.5', undefined)).toThrow(/needs a token/);
  });
});
