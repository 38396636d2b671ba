import { PassThrough } from 'node:stream';
import type Dockerode from 'dockerode';
import { describe, expect, it, vi } from 'vitest';
import { ImageBuildError } from '../errors/index.js';
import type { LogSink, LogSource } from '../logging/index.js';
import { bootstrapBaseImage, debianSuiteOf, DEFAULT_BASE_IMAGE, ensureBaseImage, upgradeNotice } from './base-image.js';

function recorder(): LogSink & { lines: [LogSource, string][] } {
  const lines: [LogSource, string][] = [];
  return { lines, write: (source, line) => lines.push([source, line]) };
}

/**
 * An engine without the image (or with the images named in `present`), whose registry either refuses at
 * once or never answers.
 */
function fakeDocker(options: { present?: boolean | string[]; pull: 'refuse' | 'hang' }): Dockerode & { pulls: string[] } {
  const pulls: string[] = [];
  const docker = {
    pulls,
    getImage: (tag: string) => ({
      inspect: async () => {
        if (options.present === true || (Array.isArray(options.present) && options.present.includes(tag))) return { Id: 'sha256:base' };
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
    expect((error as ImageBuildError).hint).toBe('run `sudo tsk docker bootstrap --image debian:bookworm-slim`, or load the image with `docker load`');
  });

  it('should refuse a tag that names no Debian suite unless given one', async () => {
    await expect(bootstrapBaseImage({ tag: 'tsk-test/base:latest', log: recorder(), docker: fakeDocker({ pull: 'refuse' }) })).rejects.toMatchObject({
      message: 'Cannot tell which Debian suite to bootstrap as tsk-test/base:latest',
    });
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

  it('should say in one line, before fetching it, that a machine with only the earlier default moves to the new one', async () => {
    vi.spyOn(process, 'getuid').mockReturnValue(1000);
    const log = recorder();
    const docker = fakeDocker({ present: ['debian:bookworm-slim'], pull: 'refuse' });
    await expect(ensureBaseImage({ tag: DEFAULT_BASE_IMAGE, log, docker })).rejects.toThrow(`Bootstrapping ${DEFAULT_BASE_IMAGE} with debootstrap needs root`);
    expect(log.lines[0]).toEqual(['tsk', upgradeNotice('debian:bookworm-slim')]);
    expect(log.lines.filter(([, line]) => line.includes('default base image is now'))).toHaveLength(1);
    expect(log.lines[1]).toEqual(['tsk', `Pulling base image ${DEFAULT_BASE_IMAGE}`]);
    expect(upgradeNotice('debian:bookworm-slim')).toBe(
      "tsk's default base image is now debian:trixie-slim (current toolchains) and this machine has only debian:bookworm-slim: " +
        'getting it once; the proxy, and sandboxes unless base_image names another image, are rebuilt on it as they are needed ' +
        '(base_image = "debian:bookworm-slim" in your tsk.toml keeps sandboxes on debian:bookworm-slim)',
    );
  });

  it('should not announce an upgrade for a base image the user chose, nor on a machine that never had the earlier default', async () => {
    const chosen = recorder();
    await ensureBaseImage({ tag: 'debian:bookworm-slim', log: chosen, docker: fakeDocker({ present: ['debian:bookworm-slim'], pull: 'refuse' }) });
    const fresh = recorder();
    await expect(ensureBaseImage({ tag: DEFAULT_BASE_IMAGE, log: fresh, docker: fakeDocker({ pull: 'refuse' }), pull: false, debootstrap: 'tsk-no-such-debootstrap' })).rejects.toThrow();
    const other = recorder();
    await expect(
      ensureBaseImage({ tag: 'debian:sid-slim', log: other, docker: fakeDocker({ present: ['debian:bookworm-slim'], pull: 'refuse' }), pull: false, debootstrap: 'tsk-no-such-debootstrap' }),
    ).rejects.toThrow();
    for (const log of [chosen, fresh, other]) expect(log.lines.filter(([, line]) => line.includes('default base image is now'))).toEqual([]);
  });

  it('should fetch a missing image once for callers that need it at the same time', async () => {
    vi.spyOn(process, 'getuid').mockReturnValue(0);
    const docker = fakeDocker({ present: ['debian:bookworm-slim'], pull: 'hang' });
    const first = recorder();
    const second = recorder();
    const options = { tag: DEFAULT_BASE_IMAGE, docker, pullIdleTimeoutMs: 50, debootstrap: 'tsk-no-such-debootstrap' };
    const results = await Promise.allSettled([ensureBaseImage({ ...options, log: first }), ensureBaseImage({ ...options, log: second })]);
    expect(results.map((result) => result.status)).toEqual(['rejected', 'rejected']);
    expect(docker.pulls).toEqual([DEFAULT_BASE_IMAGE]);
    expect(first.lines.filter(([, line]) => line.includes('default base image is now'))).toHaveLength(1);
    expect(second.lines.filter(([, line]) => line.includes('default base image is now'))).toEqual([]);
    // A later call is a new attempt: the failed one is not remembered.
    await expect(ensureBaseImage({ ...options, log: recorder() })).rejects.toThrow('is not installed');
    expect(docker.pulls).toHaveLength(2);
  });

  it('should let the next caller try itself when the one that started the attempt gives up', async () => {
    const docker = fakeDocker({ pull: 'hang' });
    const cancelled = new AbortController();
    const options = { tag: DEFAULT_BASE_IMAGE, docker, pullIdleTimeoutMs: 200, pull: true, debootstrap: 'tsk-no-such-debootstrap' };
    vi.spyOn(process, 'getuid').mockReturnValue(0);
    const starter = ensureBaseImage({ ...options, log: recorder(), signal: cancelled.signal });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const waiter = recorder();
    const waiting = ensureBaseImage({ ...options, log: waiter });
    cancelled.abort(new Error('task cancelled'));
    await expect(starter).rejects.toThrow('task cancelled');
    await expect(waiting).rejects.toThrow('is not installed');
    expect(docker.pulls).toEqual([DEFAULT_BASE_IMAGE, DEFAULT_BASE_IMAGE]);
    expect(waiter.lines).toContainEqual(['tsk', `Waiting for base image ${DEFAULT_BASE_IMAGE}, which this process is already getting…`]);
  });

  it('should not bootstrap an image that is not Debian', async () => {
    await expect(
      ensureBaseImage({ tag: 'ubuntu:24.04', log: recorder(), docker: fakeDocker({ pull: 'refuse' }), pull: false }),
    ).rejects.toThrow('is not a debian:<suite> image tsk can bootstrap');
  });
});
