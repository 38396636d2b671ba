import { spawn } from 'node:child_process';
import type { Dirent } from 'node:fs';
import { lstat, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { GitCommandError } from '../errors/git-command-error.js';

/**
 * What one entry of a task's copy-on-write layer (the overlay's upper directory) says about its path:
 * `dir` a directory merged with the base's, `opaque` a directory that hides the base's (it was removed and
 * made again), `whiteout` removed, `other` a file, symbolic link or anything else that replaces the base's.
 */
export type LayerEntryKind = 'dir' | 'opaque' | 'whiteout' | 'other';

/** What the agent changed, read from its layer alone. */
export interface LayerChanges {
  /** Every entry of the layer outside its top-level `.git`, by path relative to the layer (`/`-separated). */
  entries: Map<string, LayerEntryKind>;
  /** The layer's top-level `.git`: absent (untouched), merged with the base's, opaque, or removed/replaced. */
  gitDir: 'absent' | 'dir' | 'opaque' | 'whiteout' | 'other';
  /** Absolute paths of the whiteouts outside `.git` (removed before git reads the layer as a work tree). */
  whiteouts: string[];
}

/** Beyond this many entries the agent is wasting the worker's time: refuse rather than walk on. */
const MAX_ENTRIES = 1_000_000;

/**
 * Walk a task's layer (hostile: `lstat` only, no link followed, bounded) and say what changed. A whiteout
 * is a character device 0:0 (the overlay's mark for a removed path: the agent, without CAP_MKNOD, cannot
 * make devices); an opaque directory carries `user.overlay.opaque=y` (`userxattr` mounts), read for the
 * few directories where it matters: those the base has too.
 *
 * @throws GitCommandError for a device that is no whiteout, a name that is not UTF-8, or too many entries
 */
export async function readLayerChanges(upperDir: string, baseDir: string): Promise<LayerChanges> {
  const entries = new Map<string, LayerEntryKind>();
  const whiteouts: string[] = [];
  const candidates: string[] = [];
  let gitDir: LayerChanges['gitDir'] = 'absent';
  let count = 0;
  const kindOf = async (path: string, entry: Dirent): Promise<LayerEntryKind> => {
    if (entry.isDirectory()) return 'dir';
    if (entry.isCharacterDevice()) {
      const stats = await lstat(path);
      if (stats.rdev !== 0) throw new GitCommandError(`${path} is a device in the task's layer, refusing to collect the result`);
      return 'whiteout';
    }
    return 'other';
  };
  const walk = async (dir: string, rel: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      if (++count > MAX_ENTRIES) throw new GitCommandError(`the task's layer ${upperDir} holds more than ${MAX_ENTRIES} entries, refusing to collect the result`);
      if (entry.name.includes('\uFFFD')) throw new GitCommandError(`the task's layer holds a name that is not UTF-8 (in ${JSON.stringify(rel || '.')}), refusing to collect the result`);
      const path = join(dir, entry.name);
      const relPath = rel === '' ? entry.name : `${rel}/${entry.name}`;
      const kind = await kindOf(path, entry);
      if (relPath === '.git') {
        gitDir = kind;
        if (kind === 'dir' && (await isBaseDir(baseDir, relPath))) candidates.push(relPath);
        continue;
      }
      entries.set(relPath, kind);
      if (kind === 'whiteout') whiteouts.push(path);
      if (kind === 'dir') {
        if (await isBaseDir(baseDir, relPath)) candidates.push(relPath);
        await walk(path, relPath);
      }
    }
  };
  await walk(upperDir, '');
  for (const opaque of await opaqueDirs(upperDir, candidates)) {
    if (opaque === '.git') gitDir = 'opaque';
    else entries.set(opaque, 'opaque');
  }
  return { entries, gitDir, whiteouts };
}

async function isBaseDir(baseDir: string, rel: string): Promise<boolean> {
  return (await lstat(join(baseDir, rel)).catch(() => undefined))?.isDirectory() ?? false;
}

/**
 * Which of `dirs` (relative to `upperDir`) are opaque. Node reads no extended attribute, so GNU tar lists
 * them (one header each, no recursion, no link followed) and its PAX records are read here.
 */
async function opaqueDirs(upperDir: string, dirs: string[]): Promise<string[]> {
  if (dirs.length === 0) return [];
  const args = ['--xattrs', '--xattrs-include=user.overlay.*', '--no-recursion', '--null', '--verbatim-files-from', '-C', upperDir, '-cf', '-', '-T', '-'];
  const result = await runProcessBinary('tar', args, `${dirs.join('\0')}\0`);
  if (result.exitCode !== 0) throw new GitCommandError(`Could not read the task's layer ${upperDir}: ${result.stderr.trim().split('\n')[0] ?? ''}`);
  return opaqueInTar(result.stdout);
}

/** The directories a tar stream marks `user.overlay.opaque=y` (pure; exported for tests). */
export function opaqueInTar(tar: Buffer): string[] {
  const opaque: string[] = [];
  let offset = 0;
  let pax: Map<string, string> | undefined;
  while (offset + 512 <= tar.length) {
    const header = tar.subarray(offset, offset + 512);
    if (header.every((byte) => byte === 0)) break;
    const size = parseInt(cString(header.subarray(124, 136)).trim() || '0', 8);
    const type = String.fromCharCode(header[156] ?? 0);
    const body = tar.subarray(offset + 512, offset + 512 + size);
    offset += 512 + Math.ceil(size / 512) * 512;
    if (type === 'x') {
      pax = paxRecords(body);
      continue;
    }
    const prefix = cString(header.subarray(345, 500));
    const name = pax?.get('path') ?? (prefix ? `${prefix}/${cString(header.subarray(0, 100))}` : cString(header.subarray(0, 100)));
    if (type === '5' && pax?.get('SCHILY.xattr.user.overlay.opaque') === 'y') opaque.push(name.replace(/\/+$/, ''));
    pax = undefined;
  }
  return opaque;
}

function cString(bytes: Buffer): string {
  const end = bytes.indexOf(0);
  return bytes.subarray(0, end === -1 ? bytes.length : end).toString('utf8');
}

/** PAX extended header records: `<length> <key>=<value>\n` each. */
function paxRecords(body: Buffer): Map<string, string> {
  const records = new Map<string, string>();
  let at = 0;
  while (at < body.length) {
    const space = body.indexOf(0x20, at);
    if (space === -1) break;
    const length = parseInt(body.subarray(at, space).toString('ascii'), 10);
    if (!Number.isInteger(length) || length <= 0) break;
    const record = body.subarray(space + 1, at + length - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (eq > 0) records.set(record.slice(0, eq), record.slice(eq + 1));
    at += length;
  }
  return records;
}

/** Like runProcess, with stdout kept as bytes (a tar stream). */
async function runProcessBinary(command: string, args: string[], input: string): Promise<{ exitCode: number | null; stdout: Buffer; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', reject);
    child.on('close', (exitCode) => resolve({ exitCode, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8') }));
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
  });
}

/**
 * Whether the layer changed the base's file at `path` (an index entry): something of the layer's at the
 * path itself, or a removed, opaque or replaced folder above it. A path the layer does not reach is the
 * base's, unchanged.
 */
export function layerChanges(entries: ReadonlyMap<string, LayerEntryKind>, path: string): boolean {
  const parts = path.split('/');
  let prefix = '';
  for (const [index, part] of parts.entries()) {
    prefix = index === 0 ? part : `${prefix}/${part}`;
    const kind = entries.get(prefix);
    if (kind === undefined) return false;
    if (index === parts.length - 1 || kind !== 'dir') return true;
  }
  return false;
}

/** Remove the layer's whiteouts, so git reads the layer as a plain work tree (a removed path is missing). */
export async function dropWhiteouts(changes: LayerChanges): Promise<void> {
  for (const path of changes.whiteouts) await unlink(path);
}
