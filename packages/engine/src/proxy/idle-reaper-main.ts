/**
 * Entry of a proxy's idle reaper (see `idle-reaper.ts`): `node idle-reaper-main.js <lockDir> <fingerprint>
 * <idleTimeoutMs>`, started detached by a `tsk run` or `tsk shell` that left the proxy warm, with only the
 * Docker connection in its environment. It writes nothing anywhere: its whole effect is the proxy's removal.
 * Loads the Docker client only when it wakes: most of its life it sleeps, and should weigh little meanwhile.
 */
import { reapIdleProxy } from './idle-reaper.js';
import type { ProxyEngine } from './proxy-teardown.js';

const [lockDir, fingerprint, timeout] = process.argv.slice(2);
const idleTimeoutMs = Number(timeout);
if (!lockDir || !fingerprint || !/^[0-9a-f]+$/.test(fingerprint) || !Number.isFinite(idleTimeoutMs)) process.exit(2);
async function connect(): Promise<ProxyEngine> {
  const [{ createDocker }, { DockerNetworkClient }] = await Promise.all([import('../docker/docker-client.js'), import('./network-client.js')]);
  const docker = createDocker(process.env);
  return { docker, networks: new DockerNetworkClient(docker) };
}

reapIdleProxy(connect, { lockDir, fingerprint, idleTimeoutMs }).then(
  () => process.exit(0),
  () => process.exit(1),
);
