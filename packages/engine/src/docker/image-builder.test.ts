import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type Dockerode from 'dockerode';
import tar from 'tar-fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DockerUnavailableError, ImageBuildError } from '../errors/index.js';
import { silentSink } from '../logging/index.js';
import type { ImagePlan } from './dockerfile-composer.js';
import { ImageBuilder, taskLimits } from './image-builder.js';

/**
 * Stands in for the engine where the test has to stage timing (concurrent builds) or failures; the real
 * engine is exercised by image-builder.int.test.ts.
 */
class FakeDocker {
  readonly images = new Set<string>();
  readonly builds: { tag: string; options: Dockerode.ImageBuildOptions; contextDir: string }[] = [];
  buildDelayMs = 50;
  failWith: object | undefined;
  unavailable = false;

  constructor(private readonly scratch: string) {}

  getImage(tag: string): { inspect: () => Promise<object> } {
    return {
      inspect: async () => {
        if (this.unavailable) throw Object.assign(new Error('connect ECONNREFUSED /var/run/docker.sock'), { code: 'ECONNREFUSED' });
        if (!this.images.has(tag)) throw Object.assign(new Error('no such image'), { statusCode: 404 });
        return {};
      },
    };
  }

  async buildImage(context: NodeJS.ReadableStream, options: Dockerode.ImageBuildOptions): Promise<NodeJS.ReadableStream> {
    const tag = options.t!;
    const contextDir = await mkdtemp(join(this.scratch, 'context-'));
    await pipeline(context, tar.extract(contextDir));
    this.builds.push({ tag, options, contextDir });
    const out = new PassThrough();
    setTimeout(() => {
      out.write(`${JSON.stringify({ stream: 'Step 1/2 : FROM debian:bookworm-slim\n' })}\n`);
      out.write(`${JSON.stringify({ stream: 'Step 2/2 : RUN make\n' })}\n`);
      if (this.failWith) {
        out.write(`${JSON.stringify({ stream: 'make: *** No targets.  Stop.\n' })}\n`);
        out.end(`${JSON.stringify(this.failWith)}\n`);
        return;
      }
      this.images.add(tag);
      out.end(`${JSON.stringify({ stream: `Successfully tagged ${tag}\n` })}\n`);
    }, this.buildDelayMs);
    return out;
  }
}

function plan(tag = 'tsk/app/default/script:0123456789ab'): ImagePlan {
  return {
    tag,
    baseImage: 'debian:bookworm-slim',
    dockerfile: 'FROM debian:bookworm-slim\nRUN make\n',
    layers: [],
    contextFiles: [{ name: 'ca-certificates/0-a-0.crt', content: 'PEM' }],
    buildArgs: { AGENT_UID: '1000', AGENT_GID: '1000' },
    labels: { 'tsk.project': 'app' },
  };
}

describe('ImageBuilder (fake engine)', () => {
  let scratch: string;
  let docker: FakeDocker;
  let builder: ImageBuilder;

  beforeEach(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'tsk-builder-'));
    docker = new FakeDocker(scratch);
    builder = new ImageBuilder(docker as unknown as Dockerode, { lockDir: join(scratch, 'locks'), lockPollMs: 10 });
  });
  afterEach(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  it('should not build when the image exists', async () => {
    docker.images.add(plan().tag);
    expect(await builder.ensureImage(plan(), { log: silentSink })).toEqual({ tag: plan().tag, built: false });
    expect(docker.builds).toHaveLength(0);
  });

  it('should build a missing image from the Dockerfile and context files with labels and build args', async () => {
    expect(await builder.ensureImage(plan(), { log: silentSink })).toEqual({ tag: plan().tag, built: true });
    const [build] = docker.builds;
    expect(build!.options).toMatchObject({
      t: plan().tag,
      buildargs: { AGENT_UID: '1000', AGENT_GID: '1000' },
      labels: { 'tsk.project': 'app', 'tsk.managed': 'true' },
      nocache: false,
    });
    expect(await readFile(join(build!.contextDir, '.tsk-build', 'Dockerfile'), 'utf8')).toBe(plan().dockerfile);
    expect(await readFile(join(build!.contextDir, 'ca-certificates', '0-a-0.crt'), 'utf8')).toBe('PEM');
    expect(await readdir(join(scratch, 'locks'))).toEqual([]);
  });

  it('should rebuild an existing image with force or noCache', async () => {
    docker.images.add(plan().tag);
    expect((await builder.ensureImage(plan(), { log: silentSink, force: true })).built).toBe(true);
    expect((await builder.ensureImage(plan(), { log: silentSink, noCache: true })).built).toBe(true);
    expect(docker.builds.map((build) => build.options.nocache)).toEqual([false, true]);
  });

  it('should build once for concurrent calls in one process', async () => {
    const results = await Promise.all([1, 2, 3].map(() => builder.ensureImage(plan(), { log: silentSink })));
    expect(docker.builds).toHaveLength(1);
    expect(results.map((result) => result.built).sort()).toEqual([false, false, true]);
  });

  it('should build once for concurrent builders sharing a lock directory (other processes)', async () => {
    const other = new ImageBuilder(docker as unknown as Dockerode, { lockDir: join(scratch, 'locks'), lockPollMs: 10 });
    const lines: string[] = [];
    const results = await Promise.all([
      builder.ensureImage(plan(), { log: silentSink }),
      other.ensureImage(plan(), { log: { write: (_source, line) => lines.push(line) }, force: true }),
    ]);
    expect(docker.builds).toHaveLength(1);
    expect(results.filter((result) => result.built)).toHaveLength(1);
    expect(lines.some((line) => line.startsWith('Waiting for the build of')) || results[1]!.built).toBe(true);
  });

  it('should build different tags independently', async () => {
    await Promise.all([builder.ensureImage(plan('tsk/a/x/y:1'), { log: silentSink }), builder.ensureImage(plan('tsk/b/x/y:1'), { log: silentSink })]);
    expect(docker.builds.map((build) => build.tag).sort()).toEqual(['tsk/a/x/y:1', 'tsk/b/x/y:1']);
  });

  it('should reject with the failing step and its output, and let a queued call try again', async () => {
    docker.failWith = { errorDetail: { code: 2, message: "The command '/bin/sh -c make' returned a non-zero code: 2" } };
    const first = builder.ensureImage(plan(), { log: silentSink });
    const second = builder.ensureImage(plan(), { log: silentSink });
    const error = await first.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ImageBuildError);
    expect(error).toMatchObject({
      tag: plan().tag,
      step: 'Step 2/2 : RUN make',
      output: 'make: *** No targets.  Stop.',
      message: `Image build ${plan().tag} failed at "Step 2/2 : RUN make": The command '/bin/sh -c make' returned a non-zero code: 2`,
    });
    await expect(second).rejects.toBeInstanceOf(ImageBuildError);
    expect(docker.builds).toHaveLength(2);
    expect(await readdir(join(scratch, 'locks'))).toEqual([]);
  });

  it('should stop waiting for another build of the tag when its signal aborts', async () => {
    docker.buildDelayMs = 300;
    const first = builder.ensureImage(plan(), { log: silentSink });
    const controller = new AbortController();
    const second = builder.ensureImage(plan(), { log: silentSink, signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    await expect(second).rejects.toMatchObject({ name: 'AbortError' });
    expect((await first).built).toBe(true);
  });

  it('should report a missing engine as DockerUnavailableError', async () => {
    docker.unavailable = true;
    await expect(builder.ensureImage(plan(), { log: silentSink })).rejects.toBeInstanceOf(DockerUnavailableError);
  });
});

describe('taskLimits', () => {
  it('should give a build the task’s memory in bytes and its CPUs, clamped to what the engine has', () => {
    expect(taskLimits({ memoryGb: 1.5, cpu: 8 }, 2)).toEqual({ memoryBytes: 1.5 * 1024 ** 3, cpus: 2 });
    expect(taskLimits({ memoryGb: 12, cpu: 0.5 }, 2)).toEqual({ memoryBytes: 12 * 1024 ** 3, cpus: 0.5 });
  });
});
