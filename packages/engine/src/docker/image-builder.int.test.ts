import { randomUUID } from 'node:crypto';
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assetsRoot } from '../common/assets.js';
import type { TaskConfig } from '../config/resolved-config.js';
import { ImageBuildError } from '../errors/index.js';
import type { LogSink } from '../logging/index.js';
import type { CaFile } from './ca-files.js';
import { createDocker } from './docker-client.js';
import { composeImagePlan, type ComposeImagePlanInput, type ImagePlan } from './dockerfile-composer.js';
import { DEFAULT_BASE_IMAGE } from './base-image.js';
import { ImageBuilder } from './image-builder.js';

const BASE_IMAGE = process.env.TSK_BASE_IMAGE ?? DEFAULT_BASE_IMAGE;
const HOST_CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

/** Collects build output so tests can tell whether a call really ran a build. */
function recorder(): LogSink & { lines: string[] } {
  const lines: string[] = [];
  return { lines, write: (_source, line) => lines.push(line) };
}

describe('ImageBuilder (real engine)', () => {
  const docker = createDocker();
  const runId = randomUUID().slice(0, 8);
  const tags = new Set<string>();
  let lockDir: string;
  let builder: ImageBuilder;

  beforeAll(async () => {
    await docker.getImage(BASE_IMAGE).inspect(); // the shared base must exist: `tsk docker bootstrap`
    lockDir = await mkdtemp(join(tmpdir(), 'tsk-int-locks-'));
    builder = new ImageBuilder(docker, { lockDir });
  });

  afterAll(async () => {
    // Removing a tag also prunes its untagged parents, so no test layers are left behind (the shared base
    // is tagged and stays). Later runs therefore rebuild the base layer: about half a minute here.
    for (const tag of tags) await docker.getImage(tag).remove({ force: true }).catch(() => undefined);
    await rm(lockDir, { recursive: true, force: true });
  });

  /** A plan with a project name unique to this run, so its tag is too. */
  function plan(name: string, overrides: Partial<ComposeImagePlanInput> & { setup?: string } = {}): ImagePlan {
    const { setup, ...rest } = overrides;
    const config: Pick<TaskConfig, 'baseImage' | 'setup' | 'stackConfig' | 'agentConfig'> = {
      baseImage: BASE_IMAGE,
      setup,
      stackConfig: {},
      agentConfig: {},
    };
    const composed = composeImagePlan({
      config,
      stack: 'default',
      agent: 'script',
      project: `tsk-test-${name}-${runId}`,
      agentUid: 1000,
      agentGid: 1000,
      builtInDir: join(assetsRoot(), 'dockerfiles'),
      ...rest,
    });
    tags.add(composed.tag);
    return composed;
  }

  /** Run a command in a throwaway container of `image` (no network) and return its output. */
  async function run(image: string, command: string[]): Promise<{ exitCode: number; output: string }> {
    const container = await docker.createContainer({
      Image: image,
      Cmd: command,
      Tty: true,
      HostConfig: { NetworkMode: 'none' },
      Labels: { 'tsk.managed': 'true' },
    });
    try {
      await container.start();
      const { StatusCode } = (await container.wait()) as { StatusCode: number };
      const logs = await container.logs({ stdout: true, stderr: true, follow: false });
      return { exitCode: StatusCode, output: logs.toString('utf8').replace(/\r/g, '').trim() };
    } finally {
      await container.remove({ force: true });
    }
  }

  it('should build the default/script image once and then reuse it', async () => {
    const target = plan('basic');
    const first = recorder();
    const started = Date.now();
    expect(await builder.ensureImage(target, { log: first })).toEqual({ tag: target.tag, built: true });
    console.info(`default/script image built in ${((Date.now() - started) / 1000).toFixed(1)}s`);
    expect(first.lines.some((line) => line.startsWith('Step '))).toBe(true);

    const second = recorder();
    expect(await builder.ensureImage(target, { log: second })).toEqual({ tag: target.tag, built: false });
    expect(second.lines).toEqual([]);

    const inspect = await docker.getImage(target.tag).inspect();
    expect(inspect.Config.Labels).toMatchObject({ 'tsk.managed': 'true', 'tsk.stack': 'default', 'tsk.agent': 'script' });
    expect(inspect.Config.User).toBe('agent');
    const who = await run(target.tag, ['sh', '-c', 'echo "$(id -un) $(id -u):$(id -g) $HOME $(pwd)"; git --version; rg --version | head -1']);
    expect(who.exitCode).toBe(0);
    expect(who.output).toMatch(/^agent 1000:1000 \/home\/agent \/workspace\ngit version/);
    expect(who.output).toContain('ripgrep');
  });

  it('should create the agent user when the uid and gid already exist (root)', async () => {
    const target = plan('root-ids', { agentUid: 0, agentGid: 0 });
    expect((await builder.ensureImage(target, { log: recorder() })).built).toBe(true);
    const who = await run(target.tag, ['sh', '-c', 'echo "$(id -u):$(id -g) $HOME"; getent passwd agent']);
    expect(who.output.split('\n')).toEqual(['0:0 /home/agent', 'agent:x:0:0::/home/agent:/bin/bash']);
  });

  it('should reject a failing RUN with its step and the command output', async () => {
    const target = plan('failing', { setup: 'RUN echo "tsk-marker: cannot frobnicate" >&2 && exit 7' });
    const error = await builder.ensureImage(target, { log: recorder() }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ImageBuildError);
    const buildError = error as ImageBuildError;
    expect(buildError.step).toMatch(/^Step \d+\/\d+ : RUN echo "tsk-marker: cannot frobnicate" >&2 && exit 7$/);
    expect(buildError.output).toContain('tsk-marker: cannot frobnicate');
    expect(buildError.message).toContain('returned a non-zero code: 7');
    expect(await builder.imageExists(target.tag)).toBe(false);
  });

  it('should build once when two builders (two processes) and one builder twice ask at the same time', async () => {
    const target = plan('concurrent', { setup: `RUN echo concurrent-${runId} > /etc/tsk-concurrent` });
    const otherProcess = new ImageBuilder(createDocker(), { lockDir });
    const logs = [recorder(), recorder(), recorder()];
    const results = await Promise.all([
      builder.ensureImage(target, { log: logs[0]! }),
      builder.ensureImage(target, { log: logs[1]! }),
      otherProcess.ensureImage(target, { log: logs[2]! }),
    ]);
    expect(results.filter((result) => result.built)).toHaveLength(1);
    const builds = logs.filter((log) => log.lines.some((line) => line.startsWith('Building image')));
    expect(builds).toHaveLength(1);
  });

  it('should build the node stack, trusting the host CA bundle for npm', async () => {
    const caFiles: CaFile[] = [{ name: 'host-bundle.crt', content: await readFile(HOST_CA_BUNDLE, 'utf8') }];
    const target = plan('node', { stack: 'node', caFiles, setup: 'RUN npm install -g semver@7.6.3 && npm cache clean --force' });
    const started = Date.now();
    expect((await builder.ensureImage(target, { log: recorder() })).built).toBe(true);
    console.info(`node stack image built in ${((Date.now() - started) / 1000).toFixed(1)}s`);
    const result = await run(target.tag, ['sh', '-c', 'node --version && semver 1.2.3']);
    expect(result.exitCode).toBe(0);
    expect(result.output).toMatch(/^v\d+\.\d+\.\d+\n1\.2\.3$/);
  });

  it('should build the python stack', async () => {
    const target = plan('python', { stack: 'python' });
    const started = Date.now();
    expect((await builder.ensureImage(target, { log: recorder() })).built).toBe(true);
    console.info(`python stack image built in ${((Date.now() - started) / 1000).toFixed(1)}s`);
    const result = await run(target.tag, ['sh', '-c', 'python3 --version && python3 -m venv /tmp/venv && pipx --version']);
    expect(result.exitCode).toBe(0);
    expect(result.output).toMatch(/^Python 3\.\d+\.\d+\n/);
  });
});
