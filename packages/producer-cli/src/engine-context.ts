import { mkdir } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import {
  assertDockerAvailable,
  createDocker,
  DirectNetworkProvider,
  ImageBuilder,
  TaskRunner,
  tskDirs,
  type Dockerode,
} from '@tsk/engine';

/** The CLI's composition root: the engine objects a command needs, built on demand. */
export interface EngineContext {
  docker: Dockerode;
  images: ImageBuilder;
  dataDir: string;
  runtimeDir: string;
}

export async function createEngineContext(env: NodeJS.ProcessEnv = process.env): Promise<EngineContext> {
  const dirs = tskDirs(env);
  const docker = createDocker(env);
  await assertDockerAvailable(docker);
  const lockDir = join(dirs.runtimeDir, 'locks');
  await mkdir(lockDir, { recursive: true });
  return { docker, images: new ImageBuilder(docker, { lockDir }), dataDir: dirs.dataDir, runtimeDir: dirs.runtimeDir };
}

/** A runner for tasks executed by this CLI process (`tsk run`, `tsk shell`). */
export function createInlineRunner(context: EngineContext): TaskRunner {
  return new TaskRunner({
    docker: context.docker,
    images: context.images,
    network: new DirectNetworkProvider(),
    dataDir: context.dataDir,
    workerName: `cli-${hostname()}-${process.pid}`,
  });
}
