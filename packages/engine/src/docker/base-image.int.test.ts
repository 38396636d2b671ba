import { randomUUID } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { afterAll, describe, expect, it } from 'vitest';
import type { LogSink } from '../logging/index.js';
import { bootstrapBaseImage, DEFAULT_BASE_IMAGE, debianSuiteOf, ensureBaseImage } from './base-image.js';
import { createDocker } from './docker-client.js';

const BASE_IMAGE = process.env.TSK_BASE_IMAGE ?? DEFAULT_BASE_IMAGE;

describe('ensureBaseImage (real engine)', () => {
  it('should find the shared base image without pulling or bootstrapping', async () => {
    const lines: string[] = [];
    const log: LogSink = { write: (_source, line) => lines.push(line) };
    const docker = createDocker();
    const expectedId = (await docker.getImage(BASE_IMAGE).inspect()).Id;
    expect(await ensureBaseImage({ tag: BASE_IMAGE, docker, log })).toEqual({ tag: BASE_IMAGE, origin: 'present', id: expectedId });
    expect(lines).toEqual([]);
  });
});

/**
 * A full debootstrap of the default base image's suite from the Debian mirror (under a minute here, needs
 * root). Opt-in:
 * `TSK_TEST_BOOTSTRAP=1 npx vitest run --project integration base-image`.
 */
describe.runIf(process.env.TSK_TEST_BOOTSTRAP === '1')('bootstrapBaseImage (real engine, Debian mirror)', () => {
  const docker = createDocker();
  const suite = debianSuiteOf(DEFAULT_BASE_IMAGE)!;
  const tag = `tsk-test/bootstrap-${randomUUID().slice(0, 8)}:${suite}`;

  afterAll(async () => {
    await docker.getImage(tag).remove({ force: true }).catch(() => undefined);
  });

  it('should debootstrap, import the root filesystem, and remove its temporary directory', async () => {
    const before = new Set((await readdir(tmpdir())).filter((name) => name.startsWith('tsk-rootfs-')));
    const lines: string[] = [];
    const started = Date.now();
    await bootstrapBaseImage({ tag, suite, docker, log: { write: (_source, line) => void lines.push(line) } });
    console.info(`bootstrapped ${tag} in ${((Date.now() - started) / 1000).toFixed(0)}s`);
    // Progress, condensed: a count per phase instead of debootstrap's four lines per package.
    expect(lines).toContainEqual(expect.stringMatching(/^I: Retrieved \d{2,} packages$/));
    expect(lines).toContainEqual(expect.stringMatching(/^I: Configured \d+ packages$/));
    expect(lines.length).toBeLessThan(60);
    const leftovers = (await readdir(tmpdir())).filter((name) => name.startsWith('tsk-rootfs-') && !before.has(name));
    expect(leftovers).toEqual([]);

    const container = await docker.createContainer({ Image: tag, Cmd: ['sh', '-c', '. /etc/os-release && echo $VERSION_CODENAME'], Tty: true, HostConfig: { NetworkMode: 'none' } });
    try {
      await container.start();
      await container.wait();
      expect((await container.logs({ stdout: true, stderr: true })).toString('utf8').trim()).toBe(suite);
    } finally {
      await container.remove({ force: true });
    }
  });
});
