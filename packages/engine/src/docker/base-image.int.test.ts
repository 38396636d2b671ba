import { randomUUID } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { afterAll, describe, expect, it } from 'vitest';
import type { LogSink } from '../logging/index.js';
import { bootstrapBaseImage, ensureBaseImage } from './base-image.js';
import { createDocker } from './docker-client.js';

const BASE_IMAGE = process.env.TSK_BASE_IMAGE ?? 'debian:bookworm-slim';

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
 * A full debootstrap from the Debian mirror (a few minutes, needs root). Opt-in:
 * `TSK_TEST_BOOTSTRAP=1 npx vitest run --project integration base-image`.
 */
describe.runIf(process.env.TSK_TEST_BOOTSTRAP === '1')('bootstrapBaseImage (real engine, Debian mirror)', () => {
  const docker = createDocker();
  const tag = `tsk-test/bootstrap-${randomUUID().slice(0, 8)}:bookworm`;

  afterAll(async () => {
    await docker.getImage(tag).remove({ force: true }).catch(() => undefined);
  });

  it('should debootstrap, import the root filesystem, and remove its temporary directory', async () => {
    const before = new Set((await readdir(tmpdir())).filter((name) => name.startsWith('tsk-rootfs-')));
    let lines = 0;
    const started = Date.now();
    await bootstrapBaseImage({ tag, docker, log: { write: () => void (lines += 1) } });
    console.info(`bootstrapped ${tag} in ${((Date.now() - started) / 1000).toFixed(0)}s`);
    expect(lines).toBeGreaterThan(10);
    const leftovers = (await readdir(tmpdir())).filter((name) => name.startsWith('tsk-rootfs-') && !before.has(name));
    expect(leftovers).toEqual([]);

    const container = await docker.createContainer({ Image: tag, Cmd: ['sh', '-c', '. /etc/os-release && echo $VERSION_CODENAME'], Tty: true, HostConfig: { NetworkMode: 'none' } });
    try {
      await container.start();
      await container.wait();
      expect((await container.logs({ stdout: true, stderr: true })).toString('utf8').trim()).toBe('bookworm');
    } finally {
      await container.remove({ force: true });
    }
  });
});
