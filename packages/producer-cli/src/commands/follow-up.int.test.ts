import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
// Test-only helper shared with the engine's queue tests (one way to start tsk's Redis image).
import { startTestRedis, type TestRedis } from '../../../engine/src/test-utils/redis-container.js';
import { QueueKeys } from '../../../engine/src/test-utils/queue-internals.js';
import { connectRedis } from '@tsk/engine';
import { startServer, stopProcess, type WatchedProcess } from '../test-utils/queue-processes.js';
import { git } from '../test-utils/repo-state.js';
import { makeTskHome, runTsk, type TskHome } from '../test-utils/run-tsk.js';
import { makeSimpleRepo } from '../test-utils/simple-repo.js';
import { tskCli, type TaskJson } from '../test-utils/tsk-cli.js';

let redis: TestRedis;
let home: TskHome;
let root: string;
let repo: string;
const processes: WatchedProcess[] = [];

beforeAll(async () => {
  redis = await startTestRedis();
  home = await makeTskHome({ TSK_REDIS_URL: redis.url() });
  root = mkdtempSync(join(tmpdir(), 'tsk-follow-up-'));
  repo = makeSimpleRepo(join(root, 'repo'));
});

afterEach(async () => {
  for (const process_ of processes.splice(0)) await stopProcess(process_, 'SIGTERM');
});

afterAll(async () => {
  if (home) await tsk(['proxy', 'stop']);
  await redis?.stop();
  await home?.cleanup();
  if (root) rmSync(root, { recursive: true, force: true });
});

const { tsk, tskJson } = tskCli(() => ({ env: home.env, cwd: repo }));

/** `tsk run --agent script` of a bash script; the task as --json prints it, whatever its status. */
async function run(name: string, script: string, extra: string[] = []): Promise<TaskJson> {
  const result = await tsk(['run', '--json', '--agent', 'script', '-n', name, '-p', script, ...extra]);
  return JSON.parse(result.stdout) as TaskJson;
}

const runRecordFile = (id: string) => join(home.env.TSK_DATA_HOME ?? '', 'tsk', 'runs', `${id}.json`);
const subjects = (range: string) => git(repo, 'log', '--format=%s', range).split('\n');
const ADD_NOTES = 'echo one > notes.txt\ngit add notes.txt\ngit commit -q -m "A: add notes"';
const APPEND = 'echo two >> notes.txt\ngit commit -q -am "B: append"';

/** What `tsk` printed on stderr, as lines. */
function errorLines(stderr: string): string[] {
  return stderr.trim().split('\n');
}

describe('follow-ups (built CLI, real git, real Docker)', () => {
  it('tsk run --follow-up continues the task’s branch: its commits then the follow-up’s; the agent got both requests', async () => {
    const first = await run('first', ADD_NOTES);
    expect(first.status, first.error ?? '').toBe('COMPLETE');
    const followUp = await run('second', APPEND, ['--follow-up', first.id]);
    expect(followUp.status, followUp.error ?? '').toBe('COMPLETE');
    // The earlier branch moved forward: an open pull request on it would update.
    expect(followUp.branch).toBe(first.branch);
    expect(subjects(`main..${first.branch}`)).toEqual(['B: append', 'A: add notes']);
    expect(git(repo, 'show', `${first.branch}:notes.txt`)).toBe('one\ntwo');
    expect(git(repo, 'branch', '--list', `tsk/generic/second/${followUp.id}`)).toBe('');

    const record = JSON.parse(readFileSync(runRecordFile(followUp.id), 'utf8')) as { instructions: string; followUpOf: string };
    expect(record.followUpOf).toBe(first.id);
    // The script agent gets the earlier task's script and what it did as comments, then the new request.
    expect(record.instructions).toContain('# echo one > notes.txt');
    expect(record.instructions).toMatch(/# - [0-9a-f]{7,} A: add notes/);
    expect(record.instructions.trimEnd().endsWith(APPEND)).toBe(true);

    const listed = await tskJson<TaskJson[]>(['list']);
    expect(listed.filter((task) => [first.id, followUp.id].includes(task.id)).map((task) => [task.id, task.worker, task.branch])).toEqual([
      [first.id, '(run)', first.branch],
      [followUp.id, '(run)', first.branch],
    ]);
  });

  it('a follow-up of a branch that moved since gets its own branch and says why', async () => {
    const first = await run('moving', ADD_NOTES.replaceAll('notes', 'moving'));
    expect(first.status, first.error ?? '').toBe('COMPLETE');
    // The user reviewed it: one more commit on its branch, made without touching their work tree.
    const review = git(repo, 'commit-tree', `${first.commit}^{tree}`, '-p', first.commit ?? '', '-m', 'review');
    git(repo, 'update-ref', `refs/heads/${first.branch}`, review, first.commit ?? '');
    const followUp = await run('after-review', 'echo more >> moving.txt\ngit commit -q -am "B: more"', ['--follow-up', first.id]);
    expect(followUp.status, followUp.error ?? '').toBe('COMPLETE');
    expect(followUp.branch).toBe(`tsk/generic/after-review/${followUp.id}`);
    expect(followUp.summary).toContain(`${first.branch} moved since task ${first.id} ended: result on its own branch ${followUp.branch}`);
    expect(git(repo, 'rev-parse', first.branch ?? '')).toBe(review);
    expect(subjects(`main..${followUp.branch}`)).toEqual(['B: more', 'A: add moving']);
  });

  it('refuses in one line: a failed task, an unknown id, a run record tampered to point elsewhere', async () => {
    const failed = await run('fails', 'exit 3');
    expect(failed.status).toBe('FAILED');
    const ofFailed = await tsk(['run', '--agent', 'script', '-p', 'true', '--follow-up', failed.id]);
    expect(ofFailed.exitCode).toBe(1);
    expect(errorLines(ofFailed.stderr)).toEqual([`Error: Task ${failed.id} is FAILED (Agent exited with code 3): a follow-up starts from a COMPLETE task's result (\`tsk retry ${failed.id}\` runs it again)`]);

    const unknown = await tsk(['run', '--agent', 'script', '-p', 'true', '--follow-up', 'Zzzz_999']);
    expect(unknown.exitCode).toBe(1);
    expect(errorLines(unknown.stderr)).toEqual(['Error: No task Zzzz_999 to follow up (see `tsk list`)']);

    const good = await run('tampered', ADD_NOTES.replaceAll('notes', 'tampered'));
    expect(good.status, good.error ?? '').toBe('COMPLETE');
    const file = runRecordFile(good.id);
    const original = readFileSync(file, 'utf8');
    const mainBefore = git(repo, 'rev-parse', 'main');
    for (const [field, value, message] of [
      ['branch', 'main', 'branch must be a tsk result branch'],
      ['repoPath', '/elsewhere', `Task ${good.id} worked on /elsewhere, not ${repo}`],
    ] as const) {
      writeFileSync(file, JSON.stringify({ ...(JSON.parse(original) as object), [field]: value }));
      const refused = await tsk(['run', '--agent', 'script', '-p', 'echo x > x.txt', '--follow-up', good.id]);
      expect(refused.exitCode, field).toBe(1);
      expect(errorLines(refused.stderr)).toHaveLength(1);
      expect(refused.stderr).toContain(message);
    }
    expect(git(repo, 'rev-parse', 'main')).toBe(mainBefore);
  });

  it('tsk add --follow-up: a worker continues a queued task’s branch', async () => {
    processes.push(startServer(['-w', '1'], home.env));
    const [first] = await tskJson<TaskJson[]>(['add', '--agent', 'script', '-n', 'queued', '-p', ADD_NOTES.replaceAll('notes', 'queued'), '-w']);
    expect(first?.status, first?.error ?? '').toBe('COMPLETE');
    const [followUp] = await tskJson<TaskJson[]>(['add', '--agent', 'script', '-n', 'queued-more', '-p', 'echo two >> queued.txt\ngit commit -q -am "B: queued"', '--follow-up', first?.id ?? '', '-w']);
    expect(followUp?.status, followUp?.error ?? '').toBe('COMPLETE');
    expect(followUp?.branch).toBe(first?.branch);
    expect(subjects(`main..${first?.branch}`)).toEqual(['B: queued', 'A: add queued']);
    const log = await tsk(['logs', followUp?.id ?? '']);
    expect(log.stdout).toContain(`Branch ${first?.branch} fast-forwarded`);

    const unknown = await tsk(['add', '--agent', 'script', '-p', 'true', '--follow-up', 'Zzzz_998']);
    expect(unknown.exitCode).toBe(1);
    expect(errorLines(unknown.stderr)).toEqual(['Error: No task Zzzz_998 to follow up (see `tsk list`)']);
  });

  it('refuses a follow-up of a queued task whose result someone with Redis access rewrote', async () => {
    processes.push(startServer(['-w', '1'], home.env));
    const [first] = await tskJson<TaskJson[]>(['add', '--agent', 'script', '-n', 'rewritten', '-p', ADD_NOTES.replaceAll('notes', 'rewritten'), '-w']);
    expect(first?.status, first?.error ?? '').toBe('COMPLETE');
    const tip = git(repo, 'rev-parse', first?.branch ?? '');
    // The attacker points the record at another commit of the user's (main's), keeping the worker's signature.
    const connection = await connectRedis({ url: redis.url(), purpose: 'cli' });
    try {
      await connection.hset(new QueueKeys().task(first?.id ?? ''), 'commit', git(repo, 'rev-parse', 'main'));
    } finally {
      await connection.quit();
    }
    for (const command of ['run', 'add']) {
      const refused = await tsk([command, '--agent', 'script', '-p', 'echo x > x.txt', '--follow-up', first?.id ?? '']);
      expect(refused.exitCode, command).toBe(1);
      expect(errorLines(refused.stderr).at(-1)).toBe(`Error: Task ${first?.id}'s result is not signed by a worker key you trust: tsk will not start a follow-up from it (add that worker’s key to your trusted keys)`);
    }
    expect(git(repo, 'rev-parse', first?.branch ?? '')).toBe(tip);
  });
});

/**
 * A `claude` of the test's own in the agent layer: it reports a session in stream-json as Claude does,
 * keeps its transcript where Claude keeps it (`~/.claude/projects/<cwd>/<id>.jsonl`), and with
 * `--resume <id>` writes what that transcript held into the workspace. The task is a real claude task:
 * its command line, home and gateway are the product's.
 */
const FIXTURE_CLAUDE = [
  '#!/bin/bash',
  'set -e',
  'sid=11111111-2222-4333-8444-555555555555',
  'resumed=',
  'while [ $# -gt 0 ]; do if [ "$1" = --resume ]; then resumed="$2"; sid="$2"; shift; fi; shift; done',
  'dir="$HOME/.claude/projects/$(pwd | sed "s/[^A-Za-z0-9]/-/g")"',
  'mkdir -p "$dir"',
  'if [ -n "$resumed" ]; then echo "resumed $resumed: $(cat "$dir/$resumed.jsonl")" > resumed.txt; fi',
  String.raw`turns=0; if [ -f runs.txt ]; then turns=$(wc -l < runs.txt); fi`,
  String.raw`printf '{"turn":%s}\n' "$turns" >> "$dir/$sid.jsonl"`,
  'echo run >> runs.txt',
  String.raw`printf '{"type":"system","subtype":"init","session_id":"%s","model":"fixture"}\n' "$sid"`,
  String.raw`printf '{"type":"result","subtype":"success","is_error":false,"result":"done"}\n'`,
].join('\n');

describe('follow-ups resume the agent’s session (tsk run, a claude fixture, real Docker)', () => {
  let sessionHome: TskHome;
  let sessionRoot: string;
  let sessionRepo: string;
  let project: string;

  beforeAll(async () => {
    sessionRoot = mkdtempSync(join(tmpdir(), 'tsk-follow-up-session-'));
    project = `session-${randomBytes(4).toString('hex')}`;
    // The gateway needs a credential to start; the fixture never calls the API.
    sessionHome = await makeTskHome({ ANTHROPIC_API_KEY: 'sk-ant-FAKE-session-test' });
    const script = Buffer.from(`${FIXTURE_CLAUDE}\n`).toString('base64');
    const configDir = join(sessionHome.env.TSK_CONFIG_HOME ?? '', 'tsk');
    mkdirSync(configDir, { recursive: true });
    writeFileSync(
      join(configDir, 'tsk.toml'),
      `[defaults.agent_config.claude]\nsetup = \'\'\'\nRUN apt-get update && apt-get install -y --no-install-recommends nodejs && rm -rf /var/lib/apt/lists/*\nRUN echo ${script} | base64 -d > /usr/local/bin/claude && chmod 755 /usr/local/bin/claude\n\'\'\'\n`,
    );
    sessionRepo = makeSimpleRepo(join(sessionRoot, 'repo'));
  });

  afterAll(async () => {
    if (sessionHome) await runTsk(['proxy', 'stop'], { env: sessionHome.env, cwd: sessionRepo });
    const images = execFileSync('docker', ['images', '-q', '--filter', `label=tsk.project=${project}`], { encoding: 'utf8' }).trim();
    if (images) execFileSync('docker', ['rmi', ...new Set(images.split('\n'))], { stdio: 'ignore' });
    await sessionHome?.cleanup();
    if (sessionRoot) rmSync(sessionRoot, { recursive: true, force: true });
  });

  let lastLog = '';
  const runClaude = async (args: string[]): Promise<TaskJson> => {
    const result = await runTsk(['run', '--json', '--agent', 'claude', '--project', project, ...args], { env: sessionHome.env, cwd: sessionRepo });
    expect(result.stdout, result.stderr).not.toBe('');
    lastLog = result.stderr;
    return JSON.parse(result.stdout) as TaskJson;
  };

  it('keeps the session’s transcript with the task, and a follow-up by the same agent resumes it (claude --resume)', async () => {
    const first = await runClaude(['-n', 'session', '-p', 'Start something']);
    expect(first.status, first.error ?? '').toBe('COMPLETE');
    const runs = join(sessionHome.env.TSK_DATA_HOME ?? '', 'tsk', 'runs');
    const record = JSON.parse(readFileSync(join(runs, `${first.id}.json`), 'utf8')) as { agentSessionId?: string };
    expect(record.agentSessionId, lastLog).toBe('11111111-2222-4333-8444-555555555555');
    expect(readFileSync(join(runs, `${first.id}.session.jsonl`), 'utf8')).toBe('{"turn":0}\n');

    const followUp = await runClaude(['-n', 'session-more', '-p', 'Go on', '--follow-up', first.id]);
    expect(followUp.status, followUp.error ?? '').toBe('COMPLETE');
    expect(followUp.branch).toBe(first.branch);
    // The follow-up's agent found the earlier transcript in its home and was started with --resume.
    expect(git(sessionRepo, 'show', `${first.branch}:resumed.txt`)).toBe('resumed 11111111-2222-4333-8444-555555555555: {"turn":0}');
    expect(readFileSync(join(runs, `${followUp.id}.session.jsonl`), 'utf8')).toBe('{"turn":0}\n{"turn":1}\n');
    expect(existsSync(join(runs, `${followUp.id}.json`))).toBe(true);
  });
});
