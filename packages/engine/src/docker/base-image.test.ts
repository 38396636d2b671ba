import { PassThrough } from 'node:stream';
import type Dockerode from 'dockerode';
import { describe, expect, it, vi } from 'vitest';
import { ImageBuildError } from '../errors/index.js';
import type { LogSink, LogSource } from '../logging/index.js';
import { bootstrapBaseImage, debianSuiteOf, ensureBaseImage } from './base-image.js';

function recorder(): LogSink & { lines: [LogSource, string][] } {
  const lines: [LogSource, string][] = [];
  return { lines, write: (source, line) => lines.push([source, line]) };
}

/** An engine without the image, whose registry either refuses at once or never answers. */
function fakeDocker(options: { present?: boolean; pull: 'refuse' | 'hang' }): Dockerode & { pulls: string[] } {
  const pulls: string[] = [];
  const docker = {
    pulls,
    getImage: () => ({
      inspect: async () => {
        if (options.present) return { Id: 'sha256:base' };
        throw Object.assign(new Error('no such image'), { statusCode: 404 });
      },
    }),
    pull: async (tag: string, pullOptions: { abortSignal?: AbortSignal }) => {
      pulls.push(tag);
      if (options.pull === 'refuse') throw new Error('Get "https://registry-1.docker.io/v2/": dial tcp: lookup failed');
      const stream = new PassThrough();
      pullOptions.abortSignal?.addEventListener('abort', () => stream.destroy(new Error('aborted')));
      return stream;
    },
  };
  return docker as unknown as Dockerode & { pulls: string[] };
}

describe('debianSuiteOf', () => {
  it.each([
    ['debian:bookworm-slim', 'bookworm'],
    ['debian:trixie', 'trixie'],
    ['docker.io/library/debian:bookworm', 'bookworm'],
    ['ubuntu:24.04', undefined],
    ['debian:12', undefined],
    ['myregistry/debian:bookworm', undefined],
  ])('should map %s to %s', (tag, suite) => {
    expect(debianSuiteOf(tag)).toBe(suite);
  });
});

describe('bootstrapBaseImage', () => {
  it('should refuse to run without root', async () => {
    vi.spyOn(process, 'getuid').mockReturnValue(1000);
    const error = await bootstrapBaseImage({ tag: 'debian:bookworm-slim', log: recorder(), docker: fakeDocker({ pull: 'refuse' }) }).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(ImageBuildError);
    expect((error as ImageBuildError).message).toBe('Bootstrapping debian:bookworm-slim with debootstrap needs root');
  });

  it('should say so when debootstrap is missing', async () => {
    vi.spyOn(process, 'getuid').mockReturnValue(0);
    await expect(
      bootstrapBaseImage({
        tag: 'debian:bookworm-slim',
        log: recorder(),
        docker: fakeDocker({ pull: 'refuse' }),
        debootstrap: 'tsk-no-such-debootstrap',
      }),
    ).rejects.toMatchObject({
      message: 'Cannot bootstrap debian:bookworm-slim: tsk-no-such-debootstrap is not installed',
      hint: 'install it with `apt-get install debootstrap`',
    });
  });
});

describe('ensureBaseImage', () => {
  it('should do nothing when the image is present', async () => {
    const docker = fakeDocker({ present: true, pull: 'refuse' });
    expect(await ensureBaseImage({ tag: 'debian:bookworm-slim', log: recorder(), docker })).toEqual({
      tag: 'debian:bookworm-slim',
      origin: 'present',
      id: 'sha256:base',
    });
    expect(docker.pulls).toEqual([]);
  });

  it('should fall back to bootstrapping when the registry refuses', async () => {
    vi.spyOn(process, 'getuid').mockReturnValue(0);
    const log = recorder();
    const docker = fakeDocker({ pull: 'refuse' });
    await expect(
      ensureBaseImage({ tag: 'debian:bookworm-slim', log, docker, debootstrap: 'tsk-no-such-debootstrap' }),
    ).rejects.toThrow('tsk-no-such-debootstrap is not installed');
    expect(docker.pulls).toEqual(['debian:bookworm-slim']);
    expect(log.lines).toContainEqual(['warn', expect.stringContaining('Cannot pull debian:bookworm-slim')]);
  });

  it('should give up on a registry that does not answer within the idle timeout', async () => {
    vi.spyOn(process, 'getuid').mockReturnValue(0);
    const log = recorder();
    await expect(
      ensureBaseImage({
        tag: 'debian:bookworm-slim',
        log,
        docker: fakeDocker({ pull: 'hang' }),
        pullIdleTimeoutMs: 50,
        debootstrap: 'tsk-no-such-debootstrap',
      }),
    ).rejects.toThrow('is not installed');
    expect(log.lines).toContainEqual(['warn', expect.stringContaining('no answer from the registry in 50ms')]);
  });

  it('should not bootstrap an image that is not Debian', async () => {
    await expect(
      ensureBaseImage({ tag: 'ubuntu:24.04', log: recorder(), docker: fakeDocker({ pull: 'refuse' }), pull: false }),
    ).rejects.toThrow('is not a debian:<suite> image tsk can bootstrap');
  });
});
