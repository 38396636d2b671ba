import { randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, ContainerError, type Dockerode } from '@tsk/engine';

export interface DataDirCheckOptions {
  docker: Dockerode;
  /** The worker's data dir (workspaces, task files: what sandboxes mount). */
  dataDir: string;
  /** An image on the engine with `test` in it: the base image. */
  image: string;
}

const PROBE_DIR = '/tsk-probe';

const MOUNT_HINT =
  'sandboxes mount workspaces from it by path, resolved on the engine’s host: mount a host folder at the same path in this container and point TSK_DATA_HOME at it (-v /var/lib/tsk-worker:/var/lib/tsk-worker -e TSK_DATA_HOME=/var/lib/tsk-worker)';

/**
 * Make sure the engine sees this process's data dir at the same path. A worker in a container hands the
 * engine paths under its data dir to mount into sandboxes; the engine resolves them on its own host, so
 * unless the data dir is a host folder mounted at the same path, sandboxes would get empty folders (the
 * agent would work on nothing and the task would end with "no changes"). A file with a random name is
 * written here and a throwaway container of `image`, mounting the same path, must see it.
 *
 * @throws ConfigError saying how to mount the data dir when the engine sees another folder or none.
 */
export async function checkDataDirShared(options: DataDirCheckOptions): Promise<void> {
  const { docker, dataDir, image } = options;
  const marker = `.engine-probe-${randomBytes(8).toString('hex')}`;
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  await writeFile(join(dataDir, marker), '');
  let container: Dockerode.Container | undefined;
  try {
    try {
      container = await docker.createContainer({
        Image: image,
        Cmd: ['test', '-e', `${PROBE_DIR}/${marker}`],
        Labels: { 'tsk.role': 'data-dir-probe' },
        HostConfig: {
          Mounts: [{ Type: 'bind', Source: dataDir, Target: PROBE_DIR, ReadOnly: true }],
          NetworkMode: 'none',
          LogConfig: { Type: 'none', Config: {} },
        },
      });
    } catch (error) {
      const message = (error as Error).message;
      // The engine refuses a bind mount of a path its host does not have.
      if (/bind source path does not exist|no such file or directory/i.test(message)) {
        throw new ConfigError(`The Docker engine's host has no folder ${dataDir}, this worker's data dir`, { hint: MOUNT_HINT });
      }
      throw new ContainerError(`Could not check that the Docker engine sees ${dataDir}: ${message}`, { cause: error });
    }
    await container.start();
    const { StatusCode } = (await container.wait()) as { StatusCode: number };
    if (StatusCode === 1) throw new ConfigError(`The Docker engine's host has another folder at ${dataDir} than this worker's data dir`, { hint: MOUNT_HINT });
    if (StatusCode !== 0) throw new ContainerError(`Could not check that the Docker engine sees ${dataDir}: \`test\` in ${image} exited with ${StatusCode}`);
  } finally {
    await container?.remove({ force: true }).catch(() => undefined);
    await rm(join(dataDir, marker), { force: true });
  }
}
