import { appendFile, cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { assetsRoot } from '../common/assets.js';
import { DEFAULT_BASE_IMAGE } from '../docker/index.js';
import { ConfigError } from '../errors/index.js';
import { planProxyImage } from './proxy-image.js';

const squidDir = join(assetsRoot(), 'squid');

/** The `http_access` and other directive lines of a squid.conf, comments and blank lines dropped. */
function directives(conf: string): string[] {
  return conf
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

describe('the default squid.conf', () => {
  it('should listen on 3128, allow only ports 80/443 and CONNECT only to 443, and deny everything else last', async () => {
    const lines = directives((await planProxyImage(squidDir)).defaultSquidConf);
    expect(lines).toContain('http_port 3128');
    expect(lines).toContain('acl Safe_ports port 80 443');
    expect(lines).toContain('acl SSL_ports port 443');
    const access = lines.filter((line) => line.startsWith('http_access'));
    expect(access).toEqual([
      'http_access deny manager',
      'http_access deny !Safe_ports',
      'http_access deny CONNECT !SSL_ports',
      'http_access allow allowed_domains',
      'http_access deny all',
    ]);
  });

  it('should not cache, reveal its version or forward client addresses', async () => {
    const lines = directives((await planProxyImage(squidDir)).defaultSquidConf);
    expect(lines).toEqual(expect.arrayContaining(['cache deny all', 'httpd_suppress_version_string on', 'forwarded_for off', 'via off']));
    expect(lines.some((line) => line.startsWith('cache_dir'))).toBe(false);
  });

  it('should allowlist the agent APIs, every stack registry, the Debian/Ubuntu mirrors and GitHub, never by reverse DNS', async () => {
    const lines = directives((await planProxyImage(squidDir)).defaultSquidConf).filter((line) => line.startsWith('acl allowed_domains'));
    expect(lines.every((line) => line.startsWith('acl allowed_domains dstdomain -n '))).toBe(true);
    const domains = lines.flatMap((line) => line.split(/\s+/).slice(4));
    for (const domain of [
      '.anthropic.com', '.openai.com', 'registry.npmjs.org', 'pypi.org', 'files.pythonhosted.org', 'index.crates.io',
      'static.crates.io', 'proxy.golang.org', 'sum.golang.org', 'repo.maven.apache.org', 'plugins.gradle.org',
      'services.gradle.org', 'luarocks.org', 'deb.debian.org', 'security.debian.org', 'archive.ubuntu.com',
      'security.ubuntu.com', 'github.com', 'codeload.github.com', 'objects.githubusercontent.com',
    ]) {
      expect(domains).toContain(domain);
    }
  });
});

describe('planProxyImage', () => {
  let copy: string | undefined;
  afterEach(async () => {
    if (copy) await rm(copy, { recursive: true, force: true });
    copy = undefined;
  });

  it("should fill in the base image and copy the entrypoint, squid.conf and tsk's denial log and 403 page into the context", async () => {
    const plan = await planProxyImage(squidDir, 'debian:trixie-slim');
    expect(plan.tag).toMatch(/^tsk\/proxy:[0-9a-f]{12}$/);
    expect(plan.dockerfile).toMatch(/^FROM debian:trixie-slim$/m);
    expect(plan.dockerfile).not.toContain('{{BASE_IMAGE}}');
    expect(plan.contextFiles.map((file) => file.name).sort()).toEqual(['ERR_TSK_DENIED', 'entrypoint.sh', 'squid.conf', 'tsk-denials.conf']);
    expect(plan.baseImage).toBe('debian:trixie-slim');
  });

  it('should give a new tag when any file of the squid folder or the base image changes', async () => {
    copy = await mkdtemp(join(tmpdir(), 'tsk-squid-'));
    await cp(squidDir, copy, { recursive: true });
    const original = (await planProxyImage(copy)).tag;
    expect((await planProxyImage(copy)).tag).toBe(original);
    expect((await planProxyImage(copy, DEFAULT_BASE_IMAGE)).tag).toBe(original);
    expect((await planProxyImage(copy, 'debian:bookworm-slim')).tag).not.toBe(original);
    for (const file of ['Dockerfile', 'entrypoint.sh', 'squid.conf', 'tsk-denials.conf', 'ERR_TSK_DENIED']) {
      const before = (await planProxyImage(copy)).tag;
      await appendFile(join(copy, file), '\n# changed\n');
      expect((await planProxyImage(copy)).tag).not.toBe(before);
    }
  });

  it('should name a missing file', async () => {
    copy = await mkdtemp(join(tmpdir(), 'tsk-squid-'));
    await writeFile(join(copy, 'Dockerfile'), 'FROM {{BASE_IMAGE}}\n');
    await expect(planProxyImage(copy)).rejects.toThrow(ConfigError);
    await expect(planProxyImage(copy)).rejects.toThrow(/entrypoint\.sh is missing/);
  });
});
