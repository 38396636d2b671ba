import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { getAgent } from '../agents/index.js';
import { keepSessionTranscript, prepareSessionHome } from './agent-session.js';

const claude = getAgent('claude');
const SESSION = '945b4983-be15-4074-93d8-39d7dfba1457';
const projectDir = '.claude/projects/-workspace-demo';

describe('agent sessions in the task’s home', () => {
  let root: string;
  let home: string;
  let target: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'tsk-session-'));
    home = join(root, 'home');
    target = join(root, 'kept', `${SESSION}.jsonl`);
    await mkdir(join(home, projectDir), { recursive: true });
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  it('keeps the transcript of the session the agent reported, and puts it back for a follow-up to resume', async () => {
    await writeFile(join(home, projectDir, `${SESSION}.jsonl`), '{"type":"user"}\n');
    expect(await keepSessionTranscript(home, claude, 'demo', SESSION, target)).toBe(true);
    expect(await readFile(target, 'utf8')).toBe('{"type":"user"}\n');

    const next = join(root, 'next-home');
    const mounts = await prepareSessionHome(next, claude, 'demo', { resume: { sessionId: SESSION, transcriptFile: target } });
    expect(mounts).toEqual({ '.claude': join(next, '.claude') });
    expect(await readFile(join(next, projectDir, `${SESSION}.jsonl`), 'utf8')).toBe('{"type":"user"}\n');
    expect(await prepareSessionHome(join(root, 'script-home'), getAgent('script'), 'demo', { keepTo: target })).toEqual({});
  });

  it('never follows what the agent planted: a linked transcript, a linked folder, a FIFO, a bad id', async () => {
    const secret = join(root, 'secret.txt');
    await writeFile(secret, 'host secret\n');
    await symlink(secret, join(home, projectDir, `${SESSION}.jsonl`));
    expect(await keepSessionTranscript(home, claude, 'demo', SESSION, target)).toBe(false);

    await rm(join(home, '.claude', 'projects'), { recursive: true });
    await mkdir(join(root, 'elsewhere', '-workspace-demo'), { recursive: true });
    await writeFile(join(root, 'elsewhere', '-workspace-demo', `${SESSION}.jsonl`), 'host file\n');
    await symlink(join(root, 'elsewhere'), join(home, '.claude', 'projects'));
    expect(await keepSessionTranscript(home, claude, 'demo', SESSION, target)).toBe(false);

    await rm(join(home, '.claude', 'projects'));
    await mkdir(join(home, projectDir), { recursive: true });
    execFileSync('mkfifo', [join(home, projectDir, `${SESSION}.jsonl`)]);
    expect(await keepSessionTranscript(home, claude, 'demo', SESSION, target)).toBe(false);

    expect(await keepSessionTranscript(home, claude, 'demo', '../../../secret', target)).toBe(false);
    await expect(readFile(target)).rejects.toThrow(/ENOENT/);
  });
});
