import { constants } from 'node:fs';
import { lstat, mkdir, open } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { isAgentSessionId, type Agent } from '../agents/index.js';
import { writeFileAtomic } from '../common/atomic-file.js';
import { errorCode } from '../common/error-code.js';

/** A transcript bigger than this is not kept (a day of Claude's work is a few MiB). */
export const SESSION_TRANSCRIPT_MAX_BYTES = 64 * 1024 * 1024;

/**
 * What a run keeps of the agent's own session, and gives back to it (`tsk run`: a follow-up of a task
 * whose agent kept its session resumes it). Only for agents that keep one (`Agent.keepsSession`: Claude).
 */
export interface SessionOptions {
  /** After the run, copy the session's transcript to this file of tsk's own (written atomically, 0600). */
  keepTo?: string;
  /** Resume this session: its id and the transcript an earlier run kept (`keepTo`). */
  resume?: { sessionId: string; transcriptFile: string };
}

/** The sandbox's working directory, where the agent starts (the folder its sessions are kept under). */
export function sandboxCwd(project: string): string {
  return `/workspace/${project}`;
}

/**
 * Read at most `maxBytes` of a regular file that no symbolic link leads to: every folder from `root` down
 * is checked with `lstat` (the agent wrote them), the file opened with `O_NOFOLLOW` (and `O_NONBLOCK`, so
 * a FIFO cannot hang it) and checked again on its descriptor. Undefined when it is missing or anything
 * is not as it should be.
 */
async function readInside(root: string, relative: string, maxBytes: number): Promise<Buffer | undefined> {
  const parts = relative.split('/');
  let at = root;
  for (const part of parts.slice(0, -1)) {
    if (part === '' || part === '.' || part === '..') return undefined;
    at = join(at, part);
    const stat = await lstat(at).catch(() => undefined);
    if (stat === undefined || !stat.isDirectory()) return undefined;
  }
  const file = join(at, parts.at(-1) ?? '');
  const handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch(() => undefined);
  if (handle === undefined) return undefined;
  try {
    const stat = await handle.stat();
    if (!stat.isFile() || stat.size > maxBytes) return undefined;
    const buffer = Buffer.alloc(Math.min(stat.size, maxBytes) + 1);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    return bytesRead > maxBytes ? undefined : buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** Write `content` to `file` atomically (a private temporary file renamed over it), creating its folder. */
async function writeAtomically(file: string, content: Buffer): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  await writeFileAtomic(file, content);
}

/**
 * Before the run: the agent's session folder in the task's own home (`homeDir`, mounted into the
 * sandbox), with the transcript to resume in place. Returns the home mounts to add (the agent's folder,
 * e.g. `.claude`), or none when the agent keeps no session or there is nothing to do.
 * @throws when the transcript to resume cannot be read as a regular file within the size limit
 */
export async function prepareSessionHome(homeDir: string, agent: Agent, project: string, session: SessionOptions | undefined): Promise<Record<string, string>> {
  const keeps = agent.keepsSession;
  if (keeps === undefined || session === undefined || (session.keepTo === undefined && session.resume === undefined)) return {};
  const top = join(homeDir, keeps.homeDir);
  await mkdir(top, { recursive: true, mode: 0o700 });
  const resume = session.resume;
  if (resume !== undefined && isAgentSessionId(resume.sessionId)) {
    const content = await readInside(dirname(resume.transcriptFile), basename(resume.transcriptFile), SESSION_TRANSCRIPT_MAX_BYTES);
    if (content === undefined) throw new Error(`the session transcript ${resume.transcriptFile} is missing, too large or not a regular file`);
    await writeAtomically(join(homeDir, keeps.transcript(sandboxCwd(project), resume.sessionId)), content);
  }
  return { [keeps.homeDir]: top };
}

/**
 * After the run (the container gone, so nothing changes under us): copy the session's transcript out of
 * the task's home to `target`. The home is hostile — the agent wrote it: only a regular file, reached
 * through real folders, within {@link SESSION_TRANSCRIPT_MAX_BYTES}. Returns whether it was kept.
 */
export async function keepSessionTranscript(homeDir: string, agent: Agent, project: string, sessionId: string | undefined, target: string): Promise<boolean> {
  const keeps = agent.keepsSession;
  if (keeps === undefined || !isAgentSessionId(sessionId)) return false;
  const content = await readInside(homeDir, keeps.transcript(sandboxCwd(project), sessionId), SESSION_TRANSCRIPT_MAX_BYTES).catch((error: unknown) => {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw error;
  });
  if (content === undefined) return false;
  await writeAtomically(target, content);
  return true;
}
