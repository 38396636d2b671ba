import { mkdir, lstat, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../common/atomic-file.js';
import { log as debug } from '../logging/index.js';

/**
 * Where this user last found the embedded Redis: `<dataDir>/embedded-redis/<container>.json`, holding its
 * URL (with the password) and the Docker engine it runs on. A command tries it first and asks Docker
 * only when it does not answer, so `tsk list` loads no Docker client and makes no Docker call.
 *
 * The file is read as hostile and trusted only as far as it can be checked without Docker:
 * - it is a regular file of this user's, private to them (it holds the password);
 * - its URL is `redis://` on 127.0.0.1, so it can never point a command at another machine;
 * - the port is listened on by root (Docker's port proxy) or by this user (rootless Docker). Another
 *   local user who took the port after the container left it would get the password from the first
 *   AUTH; they cannot listen as root. Where `/proc/net/tcp` shows no such listener (another OS, Docker
 *   without its port proxy), the record is not used and Docker is asked as before.
 * The password itself then proves the Redis is ours: it was generated for this container.
 */
export interface EmbeddedRedisRecord {
  /** The recorded URL when every check above holds; otherwise undefined (never throws). */
  read(): Promise<string | undefined>;
  /** Record the URL Docker gave (best effort: a data dir that cannot be written only costs speed). */
  write(url: string): Promise<void>;
}

interface RecordFile {
  url: string;
  dockerHost: string;
}

const PRIVATE_BITS = 0o077;

/** The record of `containerName`'s URL under `dataDir`, for the Docker engine `env` names. */
export function embeddedRedisRecord(dataDir: string, containerName: string, env: NodeJS.ProcessEnv = process.env): EmbeddedRedisRecord {
  const dir = join(dataDir, 'embedded-redis');
  // The container name comes from TSK_REDIS_CONTAINER: keep it to a file name.
  const file = join(dir, `${containerName.replace(/[^A-Za-z0-9_.-]/g, '_')}.json`);
  const dockerHost = env.DOCKER_HOST ?? '';
  return {
    async read() {
      try {
        const stats = await lstat(file);
        if (!stats.isFile() || stats.uid !== process.getuid?.() || (stats.mode & PRIVATE_BITS) !== 0) {
          debug.queue('ignoring %s: not a private file of this user', file);
          return undefined;
        }
        const parsed = parseRecord(await readFile(file, 'utf8'));
        if (parsed === undefined || parsed.dockerHost !== dockerHost) return undefined;
        const port = loopbackPort(parsed.url);
        if (port === undefined) return undefined;
        const owner = await loopbackListenerOwner(port);
        if (owner === undefined || (owner !== 0 && owner !== process.getuid?.())) {
          debug.queue('ignoring %s: 127.0.0.1:%d is not listened on by root or this user (%s)', file, port, owner);
          return undefined;
        }
        return parsed.url;
      } catch (error) {
        debug.queue('no usable %s: %s', file, (error as Error).message);
        return undefined;
      }
    },
    async write(url) {
      try {
        await mkdir(dir, { recursive: true, mode: 0o700 });
        const record: RecordFile = { url, dockerHost };
        await writeFileAtomic(file, JSON.stringify(record));
      } catch (error) {
        debug.queue('could not record the embedded Redis in %s: %s', file, (error as Error).message);
      }
    },
  };
}

function parseRecord(text: string): RecordFile | undefined {
  const value: unknown = JSON.parse(text);
  if (typeof value !== 'object' || value === null) return undefined;
  const { url, dockerHost } = value as Record<string, unknown>;
  return typeof url === 'string' && typeof dockerHost === 'string' ? { url, dockerHost } : undefined;
}

/** The port of a `redis://[:password@]127.0.0.1:<port>` URL; undefined for any other URL. */
export function loopbackPort(url: string): number | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (parsed.protocol !== 'redis:' || parsed.hostname !== '127.0.0.1' || !/^[0-9]{1,5}$/.test(parsed.port)) return undefined;
  if (parsed.pathname !== '' && parsed.pathname !== '/') return undefined;
  const port = Number(parsed.port);
  return port >= 1 && port <= 65535 ? port : undefined;
}

/**
 * The uid owning the socket that listens on 127.0.0.1:`port`, from `/proc/net/tcp`; undefined when none
 * does or the file is not there (not Linux). Only that exact address: it is what the URL connects to, and
 * no other socket can listen on it while one does.
 */
export async function loopbackListenerOwner(port: number, table = '/proc/net/tcp'): Promise<number | undefined> {
  let text: string;
  try {
    text = await readFile(table, 'utf8');
  } catch {
    return undefined;
  }
  return listenerOwner(text, port);
}

/** {@link loopbackListenerOwner} on the text of a `/proc/net/tcp` table. */
export function listenerOwner(table: string, port: number): number | undefined {
  const portHex = port.toString(16).toUpperCase().padStart(4, '0');
  // The address is the kernel's 32-bit value in hex, in host byte order: 127.0.0.1 reads 0100007F on
  // little-endian machines, 7F000001 on big-endian ones.
  const addresses = new Set([`0100007F:${portHex}`, `7F000001:${portHex}`]);
  for (const line of table.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    // sl local_address rem_address st tx:rx tr:when retrnsmt uid …; st 0A is LISTEN.
    if (fields.length < 8 || !addresses.has(fields[1] ?? '') || fields[3] !== '0A') continue;
    const uid = Number(fields[7]);
    if (Number.isInteger(uid)) return uid;
  }
  return undefined;
}
