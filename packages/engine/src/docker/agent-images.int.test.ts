import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assetsRoot } from '../common/assets.js';
import { silentSink } from '../logging/index.js';
import { createDocker } from './docker-client.js';
import { composeImagePlan } from './dockerfile-composer.js';
import { DEFAULT_BASE_IMAGE } from './base-image.js';
import { ImageBuilder } from './image-builder.js';

const BASE_IMAGE = process.env.TSK_BASE_IMAGE ?? DEFAULT_BASE_IMAGE;

/**
 * The npm-installed agents, built for real on the default stack. Slow (minutes, ~1 GB) and they need the
 * npm registry, so opt-in: `TSK_TEST_ALL_IMAGES=1 npx vitest run --project integration agent-images`.
 * Every built-in stack has its own test, which builds and tests a project in the sandbox:
 * producer-cli's stack-images.int.test.ts (`npm run test:stacks`).
 */
describe.runIf(process.env.TSK_TEST_ALL_IMAGES === '1')('built-in agent images', () => {
  const docker = createDocker();
  const runId = randomUUID().slice(0, 8);
  const tags: string[] = [];
  let lockDir: string;
  let builder: ImageBuilder;
  let hostBundle: string;

  beforeAll(async () => {
    lockDir = await mkdtemp(join(tmpdir(), 'tsk-int-locks-'));
    builder = new ImageBuilder(docker, { lockDir });
    hostBundle = await readFile('/etc/ssl/certs/ca-certificates.crt', 'utf8');
  });
  afterAll(async () => {
    for (const tag of tags) await docker.getImage(tag).remove({ force: true }).catch(() => undefined);
    await rm(lockDir, { recursive: true, force: true });
  });

  async function buildAndRun(stack: string, agent: string, command: string): Promise<string> {
    const plan = composeImagePlan({
      config: { baseImage: BASE_IMAGE, setup: undefined, stackConfig: {}, agentConfig: {} },
      stack,
      agent,
      project: `tsk-test-all-${runId}`,
      agentUid: 1000,
      agentGid: 1000,
      caFiles: [{ name: 'host-bundle.crt', content: hostBundle }],
      builtInDir: join(assetsRoot(), 'dockerfiles'),
    });
    tags.push(plan.tag);
    const started = Date.now();
    await builder.ensureImage(plan, { log: silentSink });
    console.info(`${stack}/${agent} built in ${((Date.now() - started) / 1000).toFixed(1)}s`);
    const container = await docker.createContainer({ Image: plan.tag, Cmd: ['bash', '-c', command], Tty: true, HostConfig: { NetworkMode: 'none' } });
    try {
      await container.start();
      const { StatusCode } = (await container.wait()) as { StatusCode: number };
      const output = (await container.logs({ stdout: true, stderr: true })).toString('utf8').replace(/\r/g, '');
      expect(StatusCode, output).toBe(0);
      return output;
    } finally {
      await container.remove({ force: true });
    }
  }

  it.each([
    ['claude', 'claude --version', /\d+\.\d+\.\d+/],
    ['codex', 'codex --version', /codex/i],
  ])('should build the %s agent on the default stack (Node.js from Debian)', async (agent, command, expected) => {
    expect(await buildAndRun('default', agent, command)).toMatch(expected);
  });
});
