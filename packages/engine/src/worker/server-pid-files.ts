import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { processAlive } from '../common/process-alive.js';

/** A worker server running on this machine, as its pid file describes it. */
export interface ServerInfo {
  pid: number;
  worker: string;
  startedAt: string;
  health: string | undefined;
}

function serversDir(runtimeDir: string): string {
  return join(runtimeDir, 'servers');
}

/** Announce a server: `<runtimeDir>/servers/<pid>.json`. Returns the function that removes it. */
export async function writeServerPidFile(runtimeDir: string, info: ServerInfo): Promise<() => Promise<void>> {
  await mkdir(serversDir(runtimeDir), { recursive: true });
  const file = join(serversDir(runtimeDir), `${info.pid}.json`);
  await writeFile(file, `${JSON.stringify(info)}\n`);
  return () => rm(file, { force: true });
}

/** Servers started from this runtime dir that are still running; files of dead ones are removed. */
export async function listServers(runtimeDir: string): Promise<ServerInfo[]> {
  const names = await readdir(serversDir(runtimeDir)).catch(() => [] as string[]);
  const servers: ServerInfo[] = [];
  for (const name of names.filter((n) => n.endsWith('.json'))) {
    const file = join(serversDir(runtimeDir), name);
    try {
      const info = JSON.parse(await readFile(file, 'utf8')) as ServerInfo;
      if (Number.isInteger(info.pid) && processAlive(info.pid)) servers.push(info);
      else await rm(file, { force: true });
    } catch {
      await rm(file, { force: true });
    }
  }
  return servers;
}

export interface StopServersOptions {
  /** Cancel running tasks at once instead of letting them finish within the grace period. */
  now: boolean;
  /** Stop waiting for the processes to exit after this long. */
  timeoutMs: number;
}

/**
 * Ask every server of this runtime dir to stop (SIGTERM: graceful; a second one: cancel running tasks
 * now) and wait for them to exit. Returns the servers that stopped and those still running.
 */
export async function stopServers(runtimeDir: string, options: StopServersOptions): Promise<{ stopped: ServerInfo[]; running: ServerInfo[] }> {
  const servers = await listServers(runtimeDir);
  for (const server of servers) {
    process.kill(server.pid, 'SIGTERM');
    // The server treats a second signal as "now"; give it a moment to install its first-signal state.
    if (options.now) setTimeout(() => processAlive(server.pid) && process.kill(server.pid, 'SIGTERM'), 200);
  }
  const deadline = Date.now() + options.timeoutMs;
  while (servers.some((server) => processAlive(server.pid)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  return {
    stopped: servers.filter((server) => !processAlive(server.pid)),
    running: servers.filter((server) => processAlive(server.pid)),
  };
}
