/**
 * Entry of a proxy's idle reaper (see `idle-reaper.ts`): `node idle-reaper-main.js <lockDir> <fingerprint>
 * <idleTimeoutMs>`, started detached by a `tsk run` or `tsk shell` that left the proxy warm, with only the
 * Docker connection in its environment. It writes nothing anywhere: its whole effect is the proxy's removal.
 * Imports only what it needs, so that starting it costs little next to the task it follows.
 */
import { createDocker } from '../docker/docker-client.js';
import { reapIdleProxy } from './idle-reaper.js';
import { DockerNetworkClient } from './network-client.js';

const [lockDir, fingerprint, timeout] = process.argv.slice(2);
const idleTimeoutMs = Number(timeout);
if (!lockDir || !fingerprint || !/^[0-9a-f]+$/.test(fingerprint) || !Number.isFinite(idleTimeoutMs)) process.exit(2);
const docker = createDocker(process.env);
reapIdleProxy({ docker, networks: new DockerNetworkClient(docker) }, { lockDir, fingerprint, idleTimeoutMs }).then(
  () => process.exit(0),
  () => process.exit(1),
);
