import { GenericContainer, Wait, type StartedTestContainer } from 'testcontainers';
import { ensureDockerLockDir } from '../common/lock-dir.js';
import { createDocker, DEFAULT_BASE_IMAGE, ensureBaseImage, ImageBuilder } from '../docker/index.js';
import { silentSink } from '../logging/index.js';
import { redisImagePlan, redisServerArgs } from '../queue/index.js';

// Ryuk's image would have to be pulled, and this machine has no registry: containers are stopped by the tests.
process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';

/** A Redis for one test file: tsk's own Redis image (built locally from the base image), password set. */
export interface TestRedis {
  container: StartedTestContainer;
  /** The URL as it is now (the mapped port changes when the container restarts). */
  url(): string;
  /** Stop Redis gracefully (it writes its data) and start it again. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export async function startTestRedis(): Promise<TestRedis> {
  const docker = createDocker();
  // The user's own lock folder: tsk run by the same user builds this same image and must not race with a test.
  const lockDir = await ensureDockerLockDir();
  const plan = redisImagePlan(DEFAULT_BASE_IMAGE);
  await ensureBaseImage({ docker, tag: plan.baseImage, log: silentSink });
  await new ImageBuilder(docker, { lockDir }).ensureImage(plan, { log: silentSink });
  const password = 'test-pw';
  const container = await new GenericContainer(plan.tag)
    .withCommand(redisServerArgs(password))
    .withExposedPorts(6379)
    .withLabels({ 'tsk.test': 'redis' })
    .withWaitStrategy(Wait.forLogMessage('Ready to accept connections'))
    .start();
  return {
    container,
    url: () => `redis://:${password}@${container.getHost()}:${container.getMappedPort(6379)}`,
    restart: () => container.restart({ timeout: 10 }),
    stop: async () => {
      await container.stop({ timeout: 0 });
    },
  };
}
