import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_BASE_IMAGE } from '../../docker/base-image.js';
import { createDocker } from '../../docker/docker-client.js';
import { ImageBuilder, taskLimits } from '../../docker/image-builder.js';
import { silentSink } from '../../logging/index.js';
import type { TaskSpec } from '../../model/index.js';
import { taskConfigFixture, taskSpecFixture } from '../../test-utils/task-spec-fixture.js';
import { agentIds } from '../agent-ids.js';
import { ensureTaskImage } from './ensure-task-image.js';

/**
 * The warm path's image decision, against the real engine: a task whose configuration did not change
 * never asks the engine to build (not even another process's first task), and a changed one does. Builds
 * are counted where they reach the engine: every call of Docker's build endpoint.
 */
describe('ensureTaskImage (real engine): no rebuild of an unchanged image', () => {
  const docker = createDocker();
  const run = randomUUID().slice(0, 8);
  const project = `tsk-warm-image-${run}`;
  const made = new Set<string>();
  let lockDir: string;
  let projectDir: string;
  let builds = 0;

  /** The engine client every builder here uses, counting the builds it is asked for. */
  const counting = new Proxy(docker, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      if (property === 'buildImage') {
        return (...args: unknown[]) => {
          builds += 1;
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      }
      return (value as (...a: unknown[]) => unknown).bind(target);
    },
  }) as Dockerode;

  function spec(setup?: string): TaskSpec {
    return taskSpecFixture({ agent: 'no-op', stack: 'default', project, config: taskConfigFixture({ agent: 'no-op', baseImage: DEFAULT_BASE_IMAGE, setup }) });
  }

  /** One task's image decision, as a fresh process makes it (its own ImageBuilder: nothing memoized). */
  async function ensure(task: TaskSpec): Promise<string> {
    const images = new ImageBuilder(counting, { lockDir });
    const tag = await ensureTaskImage({ docker: counting, images }, task, agentIds(), {
      log: silentSink,
      projectDir,
      // No network: the layers tsk's other images share come from the build cache, the project's own
      // line needs none, and a build that wanted more fails instead of reaching out.
      network: { networkMode: 'none', args: {} },
      limits: taskLimits({ memoryGb: 2, cpu: 1 }, 1),
    });
    made.add(tag);
    return tag;
  }

  beforeAll(async () => {
    await docker.getImage(DEFAULT_BASE_IMAGE).inspect(); // the shared base must exist: `tsk docker bootstrap`
    lockDir = await mkdtemp(join(tmpdir(), 'tsk-image-locks-'));
    projectDir = await mkdtemp(join(tmpdir(), 'tsk-image-project-'));
  });

  afterAll(async () => {
    // The tags are this run's own (its project name); their layers below are shared and stay cached.
    for (const tag of made) await docker.getImage(tag).remove({ force: true }).catch(() => undefined);
    await rm(lockDir, { recursive: true, force: true });
    await rm(projectDir, { recursive: true, force: true });
  });

  it('should build a new configuration once, reuse it without a build, and build again only when the configuration changes', async () => {
    const first = await ensure(spec(`RUN echo ${run} > /tmp/tsk-marker`));
    expect(builds).toBe(1);

    // The same configuration again, as a second task (another process) would: the tag exists, no build.
    const started = performance.now();
    expect(await ensure(spec(`RUN echo ${run} > /tmp/tsk-marker`))).toBe(first);
    console.info(`warm image decision: ${(performance.now() - started).toFixed(0)} ms`);
    expect(builds).toBe(1);

    // A changed configuration is another image: built once, then reused too.
    const changed = await ensure(spec(`RUN echo ${run}-changed > /tmp/tsk-marker`));
    expect(changed).not.toBe(first);
    expect(builds).toBe(2);
    expect(await ensure(spec(`RUN echo ${run}-changed > /tmp/tsk-marker`))).toBe(changed);
    expect(builds).toBe(2);
  });
});
