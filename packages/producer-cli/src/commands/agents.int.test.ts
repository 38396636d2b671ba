import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectRedis } from '@tsk/engine';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { assetsRoot } from '../../../engine/src/common/assets.js';
import {
  anthropicRateLimitTurn,
  loadAgentApiFixture,
  startAgentApiServer,
  type AgentApiServer,
  type AnthropicTurn,
  type OpenAITurn,
  type Script,
} from '../../../engine/src/test-utils/agent-api-server.js';
// Test-only helper shared with the engine's queue tests (one way to start tsk's Redis image).
import { startTestRedis, type TestRedis } from '../../../engine/src/test-utils/redis-container.js';
import { startServer, stopProcess, type WatchedProcess } from '../test-utils/queue-processes.js';
import { git } from '../test-utils/repo-state.js';
import { makeTskHome, startTsk, type TskHome, type TskProcess } from '../test-utils/run-tsk.js';
import { containersOf, makeSimpleRepo, writeFiles } from '../test-utils/simple-repo.js';
import { tskCli, type TaskJson } from '../test-utils/tsk-cli.js';

/**
 * The real `claude` and `codex` CLIs (the pinned versions the agent layers install from npm), in real
 * sandboxes behind a real proxy, driven by the test API server's fixtures through tsk's gateway. The
 * proxy's allowlist has no agent API host at all: nothing here can reach a real service, and the agents
 * reach their "API" only through the gateway, which runs in tsk's process and forwards to the test server
 * on this machine's loopback.
 */

const PROJECT = 'agentrepo';
const WORKDIR = `/workspace/${PROJECT}`;
const NOTE = '# Agent note\n\nWritten by the scripted test agent.\n';
// What the gateway holds. None of it may show up in the sandbox, its image, Redis or a log.
const CLAUDE_LOGIN_TOKEN = 'sk-ant-oat01-SECRET-login-token-of-the-owner';
const CODEX_API_KEY = 'sk-proj-SECRET-api-key-of-the-owner';
const SECRETS = [CLAUDE_LOGIN_TOKEN, CODEX_API_KEY, 'SECRET-refresh'];

let redis: TestRedis;
let server: AgentApiServer | undefined;
let home: TskHome;
let root: string;
let repo: string;
let connection: Redis;
/** The claude task of the first test, which the follow-up test continues. */
let firstClaude: TaskJson | undefined;
const processes: WatchedProcess[] = [];
/** A test API server playing these scripts, where the gateway of every tsk process started next sends the agents. */
async function serve(scripts: { anthropic?: Script<AnthropicTurn>; openai?: Script<OpenAITurn> }): Promise<AgentApiServer> {
  await server?.close();
  server = await startAgentApiServer({ ...scripts, vars: { WORKDIR } });
  // The gateway's upstream: this machine's loopback, never a real service.
  home.env.TSK_AGENT_API_ANTHROPIC = server.url;
  home.env.TSK_AGENT_API_OPENAI = `${server.url}/v1`;
  return server;
}

/**
 * The task id of the sandbox `run` said it started, checked against Docker: its container is there under
 * that task's label. Taken from what this run printed, not from whichever `tsk.task` container Docker
 * lists first (another test's, or one a killed run left).
 */
function runningTaskId(run: TskProcess): string {
  const id = /Starting \S+ agent in container tsk-([A-Za-z0-9_]{8})\b/.exec(run.printed())?.[1];
  if (id === undefined) throw new Error(`tsk did not say which container it started:\n${run.printed()}`);
  const labelled = execFileSync('docker', ['ps', '-a', '--filter', `label=tsk.task=${id}`, '--format', '{{.Names}}'], { encoding: 'utf8' }).trim();
  expect(labelled, `the container of task ${id}`).toBe(`tsk-${id}`);
  return id;
}

/** tsk's default allowlist without the agent APIs: a request to a real agent service is denied. */
function allowlistWithoutAgentApis(): string {
  const conf = readFileSync(join(assetsRoot(), 'squid', 'squid.conf'), 'utf8');
  const kept = conf.split('\n').filter((line) => !/anthropic|openai|claude\.ai|claude\.com|chatgpt/.test(line));
  expect(kept.join('\n')).not.toMatch(/anthropic|openai/);
  return kept.join('\n');
}

beforeAll(async () => {
  redis = await startTestRedis();
  root = mkdtempSync(join(tmpdir(), 'tsk-agents-'));
  repo = makeSimpleRepo(join(root, PROJECT));
  const ownerHome = join(root, 'owner-home');
  writeFiles(ownerHome, {
    '.claude/.credentials.json': `${JSON.stringify({ claudeAiOauth: { accessToken: CLAUDE_LOGIN_TOKEN, refreshToken: 'sk-ant-ort01-SECRET-refresh', expiresAt: Date.now() + 30 * 86_400_000, scopes: ['user:inference'] } })}\n`,
    '.codex/auth.json': `${JSON.stringify({ OPENAI_API_KEY: CODEX_API_KEY })}\n`,
  });
  home = await makeTskHome({
    HOME: ownerHome,
    TSK_REDIS_URL: redis.url(),
    ANTHROPIC_API_KEY: '',
    OPENAI_API_KEY: '',
  });
  writeFiles(join(home.env.TSK_CONFIG_HOME ?? '', 'tsk'), {
    'tsk.toml': [
      '[defaults]',
      // The npm registry sits behind a TLS-intercepting proxy here: the agent layers' npm install trusts it.
      'ca_certificates = ["/etc/ssl/certs/ca-certificates.crt"]',
      `squid_conf = '''\n${allowlistWithoutAgentApis()}\n'''`,
      '',
      '[server]',
      'start_interval = "0s"',
      '',
    ].join('\n'),
  });
  connection = await connectRedis({ url: redis.url(), purpose: 'cli' });
});

afterEach(async () => {
  for (const process_ of processes.splice(0)) await stopProcess(process_, 'SIGTERM');
  await server?.close();
  server = undefined;
});

afterAll(async () => {
  await connection?.quit();
  if (home) await tsk(['proxy', 'stop']);
  await redis?.stop();
  await home?.cleanup();
  if (root) rmSync(root, { recursive: true, force: true });
});

const { tsk, tskJson } = tskCli(() => ({ env: home.env, cwd: repo }));

function expectNoSecret(text: string, where: string): void {
  for (const secret of SECRETS) expect(text, where).not.toContain(secret);
}

/** Every value of every key in Redis. */
async function redisDump(): Promise<string> {
  const values: string[] = [];
  for (const key of await connection.keys('*')) {
    const type = await connection.type(key);
    values.push(
      type === 'string' ? ((await connection.get(key)) ?? '')
      : type === 'hash' ? JSON.stringify(await connection.hgetall(key))
      : type === 'stream' ? JSON.stringify(await connection.xrange(key, '-', '+'))
      : type === 'list' ? JSON.stringify(await connection.lrange(key, 0, -1))
      : type === 'set' ? JSON.stringify(await connection.smembers(key))
      : type === 'zset' ? JSON.stringify(await connection.zrange(key, 0, -1))
      : '',
    );
  }
  return values.join('\n');
}

/**
 * A first turn that reports what the sandbox holds into the workspace (committed with the result): its
 * environment, every file under its home and workspace, and what it finds of the secrets. Slow, so that
 * the test can inspect the running container.
 */
function reportTurn(id: string): AnthropicTurn {
  const command = [
    '{ echo "== env"; env; echo "== home"; find ~ -type f -exec sh -c \'echo "-- $1"; cat "$1"\' _ {} \\;; }',
    `> ${WORKDIR}/sandbox-report.txt 2>&1;`,
    `grep -rlE "SECRE[T]-" ~ /tsk ${WORKDIR} /etc > ${WORKDIR}/sandbox-secrets.txt 2>/dev/null || true`,
  ].join(' ');
  return { delayMs: 4000, content: [{ type: 'tool_use', id, name: 'Bash', input: { command, description: 'Report what the sandbox holds' } }], usage: { input_tokens: 500, output_tokens: 40 } };
}

describe('the real claude and codex CLIs end to end (real Docker, real proxy, test API server)', () => {
  it('claude (tsk run, a subscription login): tool calls, todos, a sub-agent, summary with cost; the login never enters the sandbox', async () => {
    const script = loadAgentApiFixture<AnthropicTurn>('claude-task');
    script.conversations.at(-1)?.turns.unshift(reportTurn('toolu_tsk_report'));
    const api = await serve({ anthropic: script });
    const run = startTsk(['run', '--json', '--agent', 'claude', '-n', 'real-claude', '-p', 'Look around, write AGENT_NOTE.md, track the work as todos and have a sub-agent check the note.'], { env: home.env, cwd: repo });
    // A failed expectation must not leave the run (and its sandbox) behind.
    onTestFinished(() => {
      if (run.child.exitCode === null) run.child.kill('SIGTERM');
    });
    await run.waitFor('Starting claude agent in container tsk-', 600_000);
    const id = runningTaskId(run);
    expect(id).toMatch(/^[A-Za-z0-9_]{8}$/);
    // While it runs: the container's and its image's whole configuration hold no secret.
    const inspected = execFileSync('docker', ['inspect', `tsk-${id}`], { encoding: 'utf8' });
    const image = (JSON.parse(inspected) as [{ Image: string }])[0].Image;
    expectNoSecret(inspected, 'docker inspect of the container');
    expect(inspected).toContain('ANTHROPIC_BASE_URL=http://127.0.0.1:4180');
    expectNoSecret(execFileSync('docker', ['image', 'inspect', image], { encoding: 'utf8' }), 'docker image inspect');
    expectNoSecret(execFileSync('docker', ['history', '--no-trunc', image], { encoding: 'utf8' }), 'docker history');
    const result = await run.done;
    const task = JSON.parse(result.stdout) as TaskJson;
    expect(result.exitCode, result.stderr).toBe(0);
    expect(task).toMatchObject({ id, status: 'COMPLETE', branch: `tsk/generic/real-claude/${id}` });
    expect(containersOf(id)).toBe('');

    // The agent did the work: the branch has its file.
    expect(git(repo, 'show', `${task.branch}:AGENT_NOTE.md`)).toBe(NOTE.trimEnd());
    // Readable log lines: tool calls with their argument, messages, todo progress, the sub-agent, the summary.
    for (const line of [
      '-> Bash: echo hello from the agent > /dev/null; ls',
      'Todo: [ ] Write AGENT_NOTE.md',
      'Todo: [x] Write AGENT_NOTE.md',
      `-> Write: ${WORKDIR}/AGENT_NOTE.md`,
      'Sub-agent started: Check the note (general-purpose)',
      `  | -> Read: ${WORKDIR}/AGENT_NOTE.md`,
      "I'll look at the repository first.",
    ]) {
      expect(result.stderr).toContain(line);
    }
    expect(result.stderr).toMatch(/Claude finished successfully, cost \$0\.\d{4}/);
    expect(task.costUsd).toBeGreaterThan(0);
    expect(task.inputTokens).toBeGreaterThan(0);
    expect(result.stderr).toContain("Agent API through tsk's gateway (login from");

    // The test API server got the owner's login, as Claude sends a subscription's: a bearer token with the
    // OAuth beta; never the placeholder or an API key.
    const calls = api.requests.filter((request) => request.path.startsWith('/v1/messages'));
    expect(calls.length).toBeGreaterThanOrEqual(10);
    for (const call of calls) {
      expect(call.headers.authorization).toBe(`Bearer ${CLAUDE_LOGIN_TOKEN}`);
      expect(call.headers['anthropic-beta']).toContain('oauth-2025-04-20');
      expect(call.headers['x-api-key']).toBeUndefined();
    }

    // The sandbox held only the placeholder: nothing in its environment, home or workspace is a secret.
    const report = git(repo, 'show', `${task.branch}:sandbox-report.txt`);
    expect(report).toContain('ANTHROPIC_API_KEY=tsk-placeholder-');
    expect(report).toContain('== home');
    // Files anywhere in its home, workspace, /tsk or /etc holding a secret: none.
    expect(git(repo, 'show', `${task.branch}:sandbox-secrets.txt`)).toBe('');
    expectNoSecret(report, 'the sandbox report');
    expectNoSecret(result.stdout + result.stderr, "tsk run's output (the task's log)");
    expectNoSecret(readFileSync(join(home.env.TSK_DATA_HOME ?? '', 'tsk', 'runs', `${id}.json`), 'utf8'), 'the run record');
    firstClaude = task;
  });

  it('claude follow-up (tsk run --follow-up): resumes the kept session and moves the task’s branch forward', async () => {
    expect(firstClaude?.branch).toBeDefined();
    const append = `cd ${WORKDIR} && echo "Followed up." >> AGENT_NOTE.md`;
    const turns: AnthropicTurn[] = [
      { content: [{ type: 'tool_use', id: 'toolu_follow_append', name: 'Bash', input: { command: append, description: 'Append to the note' } }], usage: { input_tokens: 300, output_tokens: 20 } },
      { content: [{ type: 'text', text: 'Appended a line to the note.' }], usage: { input_tokens: 350, output_tokens: 10 } },
    ];
    const api = await serve({ anthropic: { conversations: [{ turns }] } });
    const result = await tsk(['run', '--json', '--follow-up', firstClaude?.id ?? '', '-p', 'Add a line saying it was followed up.']);
    const task = JSON.parse(result.stdout) as TaskJson;
    expect(result.exitCode, result.stderr).toBe(0);
    // The earlier branch moved forward: the earlier commit, then the follow-up's.
    expect(task.branch).toBe(firstClaude?.branch);
    expect(git(repo, 'show', `${task.branch}:AGENT_NOTE.md`)).toBe(`${NOTE}Followed up.`);
    expect(git(repo, 'rev-list', '--count', `${firstClaude?.commit}..${task.branch}`)).toBe('1');
    expect(result.stderr).toContain(`Resuming claude's session`);
    expect(result.stderr).toContain('-> Bash: echo "Followed up." >> AGENT_NOTE.md');
    // Claude resumed the kept session: its first request carries the earlier conversation, and the
    // instructions carry the earlier request and the new one.
    const [first] = api.requests.filter((request) => request.path.startsWith('/v1/messages'));
    expect(first?.body).toContain('toolu_tsk_bash');
    expect(first?.body).toContain('Add a line saying it was followed up.');
    expect(first?.body).toContain('write AGENT_NOTE.md, track the work as todos');
  });

  it('codex (tsk add, a worker, an API key login): command, plan, patch, tokens; the key is in no sandbox, job, record or log', async () => {
    const api = await serve({ openai: loadAgentApiFixture<OpenAITurn>('codex-task') });
    const [added] = await tskJson<TaskJson[]>(['add', '--agent', 'codex', '--model', 'gpt-5.5-codex', '-n', 'real-codex', '-p', 'Look around, plan the work, write AGENT_NOTE.md and sum up.']);
    processes.push(startServer(['-w', '1'], home.env));
    const waited = await tsk(['wait', added?.id ?? '']);
    expect(waited.exitCode, waited.stdout + waited.stderr).toBe(0);
    const [task] = (await tskJson<TaskJson[]>(['list'])).filter((listed) => listed.id === added?.id);
    expect(task?.status).toBe('COMPLETE');
    expect(git(repo, 'show', `${task?.branch}:AGENT_NOTE.md`)).toBe(NOTE.trimEnd());
    expect(task).toMatchObject({ inputTokens: 7600, outputTokens: 260, costUsd: null });
    expect(waited.stdout).toContain('(7.9k tok)');

    const log = (await tsk(['logs', added?.id ?? ''])).stdout;
    for (const line of ["I'll look at the repository first.", '-> shell: echo hello from the agent > /dev/null; ls (exit 0)', '  [ ] Write AGENT_NOTE.md', '  [x] Summarise the work', 'Codex finished (tokens: 7600 in, 260 out)']) {
      expect(log).toContain(line);
    }
    const calls = api.requests.filter((request) => request.path.startsWith('/v1/responses'));
    expect(calls).toHaveLength(5);
    for (const call of calls) expect(call.headers.authorization).toBe(`Bearer ${CODEX_API_KEY}`);
    expect(JSON.parse(calls[0]?.body ?? '{}')).toMatchObject({ model: 'gpt-5.5-codex' });

    expectNoSecret(log, 'the task log');
    expectNoSecret(await redisDump(), 'Redis');
    // Nor in any file tsk keeps: task logs, run records, kept sessions.
    const kept = execFileSync('sh', ['-c', 'grep -rlE "$0" "$1" || true', SECRETS.join('|'), join(home.env.TSK_DATA_HOME ?? '', 'tsk')], { encoding: 'utf8' }).trim();
    expect(kept).toBe('');
  });

  it('says which login is missing before building anything', async () => {
    const empty = await makeTskHome({ HOME: join(root, 'nobody'), TSK_REDIS_URL: redis.url(), ANTHROPIC_API_KEY: '', OPENAI_API_KEY: '' });
    try {
      const result = await tsk(['run', '--agent', 'claude', '-p', 'anything'], empty.env);
      expect(result.exitCode).toBe(1);
      expect(result.stderr.trim().split('\n').at(-1)).toBe(
        'Error: No claude credential on this machine: claude tasks need a login or an API key (run `claude login`, or set ANTHROPIC_API_KEY where the task runs)',
      );
      expect(result.stderr).not.toMatch(/Building|Starting/);
    } finally {
      await empty.cleanup();
    }
  });

  it('--max-cost stops claude as soon as its running cost passes the limit, keeps its committed work, ends FAILED', async () => {
    const commit = `cd ${WORKDIR} && echo first > step1.txt && git add step1.txt && git commit -q -m "agent: step 1"`;
    const turns: AnthropicTurn[] = [
      { content: [{ type: 'tool_use', id: 'toolu_budget_1', name: 'Bash', input: { command: commit, description: 'Step 1' } }], usage: { input_tokens: 100, output_tokens: 10 } },
      // A costly message: over a dollar at any Claude price, far over the budget.
      { content: [{ type: 'tool_use', id: 'toolu_budget_2', name: 'Bash', input: { command: 'sleep 1', description: 'Think hard' } }], usage: { input_tokens: 400_000, output_tokens: 100_000 } },
      { delayMs: 120_000, content: [{ type: 'text', text: 'never reached' }], usage: { input_tokens: 1, output_tokens: 1 } },
    ];
    await serve({ anthropic: { conversations: [{ turns }] } });
    const result = await tsk(['run', '--json', '--agent', 'claude', '-n', 'budget', '--max-cost', '0.50', '-p', 'Do two steps.']);
    const task = JSON.parse(result.stdout) as TaskJson;
    expect(result.exitCode).toBe(1);
    expect(task.status).toBe('FAILED');
    expect(task.error).toMatch(/^budget exceeded: \$\d+\.\d\d of \$0\.50$/);
    expect(git(repo, 'log', '--format=%s', `main..${task.branch}`)).toContain('agent: step 1');
    expect(task.costUsd).toBeGreaterThan(0.5);
  });

  it('a rate-limited claude task waits in the queue until the reset, then completes', async () => {
    const reset = new Date(Date.now() + 8000);
    const turns: AnthropicTurn[] = [
      anthropicRateLimitTurn(reset, 1),
      { content: [{ type: 'tool_use', id: 'toolu_rl_write', name: 'Write', input: { file_path: `${WORKDIR}/after-limit.txt`, content: 'done\n' } }], usage: { input_tokens: 100, output_tokens: 10 } },
      { content: [{ type: 'text', text: 'Wrote it.' }], usage: { input_tokens: 120, output_tokens: 5 } },
    ];
    await serve({ anthropic: { conversations: [{ turns }] } });
    const [added] = await tskJson<TaskJson[]>(['add', '--agent', 'claude', '-n', 'limited', '-p', 'Write after-limit.txt.']);
    const id = added?.id ?? '';
    processes.push(startServer(['-w', '1'], home.env));
    let delayed: TaskJson | undefined;
    for (let i = 0; i < 300 && delayed === undefined; i += 1) {
      const [listed] = (await tskJson<TaskJson[]>(['list'])).filter((task) => task.id === id);
      if (listed?.status === 'DELAYED') delayed = listed;
      else if (listed?.status === 'COMPLETE' || listed?.status === 'FAILED') break;
      else await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(delayed?.delayedUntil, 'the task was seen DELAYED').toBeDefined();
    // The latest reset the 429 states: its reset headers, or its retry-after counted from when it was served.
    const until = Date.parse(delayed?.delayedUntil ?? '');
    expect(until).toBeGreaterThanOrEqual(reset.getTime() - 1000);
    expect(until).toBeLessThan(reset.getTime() + 20_000);
    const waited = await tsk(['wait', id]);
    expect(waited.exitCode, waited.stdout + waited.stderr).toBe(0);
    const [task] = (await tskJson<TaskJson[]>(['list'])).filter((listed) => listed.id === id);
    expect(task).toMatchObject({ status: 'COMPLETE', delays: 1 });
    expect(git(repo, 'show', `${task?.branch}:after-limit.txt`)).toBe('done');
    expect((await tsk(['logs', id])).stdout).toContain('rate limited: back in the queue until');
  });
});
