import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeBridgeScript } from '../agent-api/bridge.js';
import {
  anthropicRateLimitTurn,
  loadAgentApiFixture,
  openaiRateLimitTurn,
  startAgentApiServer,
  type AgentApiServer,
  type AnthropicTurn,
  type OpenAITurn,
} from '../test-utils/agent-api-server.js';
import { git, isolateGitConfig, makeRepo, tempDir } from '../test-utils/git-fixtures.js';
import { chownTo, ensureTestUser, type TestUser } from '../test-utils/run-as-user.js';
import type { AgentLogParser } from './agent.js';
import { getAgent } from './registry.js';

/**
 * The real `claude` and `codex` CLIs, at the versions the agent layers pin, driven through the scripted
 * task of `test-utils/agent-api-fixtures/` by the test API server. Each runs as an unprivileged user in a
 * network namespace of its own holding only a loopback: the server is reached through its unix socket
 * (the bridge tsk puts in sandboxes forwards the namespace's 127.0.0.1 port to it), and nothing else is
 * reachable at all. Root only (`unshare --net`, switching users).
 */
const CLAUDE_VERSION = '2.1.332';
const CODEX_VERSION = '0.171.0';
const PORT = 4180;
const NOTE = '# Agent note\n\nWritten by the scripted test agent.\n';

const skipReason =
  process.platform !== 'linux'
    ? 'needs Linux network namespaces'
    : process.getuid?.() !== 0
      ? 'needs root (unshare --net, and running the CLIs as an unprivileged user)'
      : undefined;
if (skipReason) console.warn(`real-agents.int.test.ts skipped: ${skipReason}`);

/**
 * The pinned CLIs, installed once per machine from the npm registry into a cache under the OS temp dir
 * keyed by their versions (built in a scratch folder and renamed, so a half install is never used).
 */
async function installCli(): Promise<string> {
  const dir = join(tmpdir(), 'tsk-agent-clis', `claude-code-${CLAUDE_VERSION}_codex-${CODEX_VERSION}`);
  if (existsSync(join(dir, 'node_modules/.bin/claude')) && existsSync(join(dir, 'node_modules/.bin/codex'))) return dir;
  await mkdir(dirname(dir), { recursive: true, mode: 0o755 });
  const scratch = await mkdtemp(`${dir}.partial-`);
  try {
    execFileSync(
      'npm',
      ['install', '--prefix', scratch, '--no-audit', '--no-fund', '--loglevel=error', `@anthropic-ai/claude-code@${CLAUDE_VERSION}`, `@openai/codex@${CODEX_VERSION}`],
      { stdio: 'pipe', timeout: 300_000 },
    );
    execFileSync('chmod', ['-R', 'a+rX', scratch]);
    await rename(scratch, dir).catch(async (error: unknown) => {
      // Another run installed it meanwhile.
      if (!existsSync(join(dir, 'node_modules/.bin/claude'))) throw error;
    });
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  return dir;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  /** What the agent's own log parser made of stdout. */
  lines: string[];
  parser: AgentLogParser;
  server: AgentApiServer;
}

describe.skipIf(skipReason !== undefined)('real agent CLIs against the test API server', () => {
  let cliDir: string;
  let user: TestUser;

  beforeAll(async () => {
    cliDir = await installCli();
    const found = ensureTestUser();
    if (!found) throw new Error('no test user');
    user = found;
  });

  /** Run `command` in a sealed network namespace as the test user, `input` on stdin, against `server`. */
  async function runSealed(options: {
    agent: 'claude' | 'codex';
    command: string[];
    env: Record<string, string>;
    cwd: string;
    socketDir: string;
    input: string;
    server: AgentApiServer;
  }): Promise<Run> {
    const bridge = join(options.socketDir, 'bridge.cjs');
    await writeBridgeScript(bridge);
    const agentCommand = ['setpriv', `--reuid=${user.uid}`, `--regid=${user.gid}`, '--clear-groups', ...options.command];
    const inner = 'ip link set lo up && exec "$@"';
    const argv = ['--net', '--', 'sh', '-c', inner, 'sh', process.execPath, bridge, String(PORT), join(options.socketDir, 'api.sock'), ...agentCommand];
    const child = spawn('unshare', argv, { cwd: options.cwd, env: options.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.stdin.end(options.input);
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    const code = await new Promise<number | null>((resolve) => child.once('close', (status) => resolve(status)));
    clearTimeout(timer);
    const parser = getAgent(options.agent).createLogParser();
    const lines = stdout.split('\n').filter((line) => line.trim()).flatMap((line) => parser.parse(line));
    return { code, stdout, stderr, lines, parser, server: options.server };
  }

  /** A repository and a home for the test user, and a folder for the server's socket. */
  async function workspace(): Promise<{ repo: string; home: string; socketDir: string }> {
    await isolateGitConfig();
    const repo = await makeRepo({ 'README.md': '# test project\n' });
    const home = await tempDir('tsk-agent-home-');
    const socketDir = await tempDir('tsk-agent-api-');
    chownTo(user, repo, home);
    // git refuses a repository owned by someone else unless told otherwise; the CLIs run git status.
    // The CLIs' own temporary files (Claude's task outputs and sockets) go with the home.
    await mkdir(join(home, 'tmp'));
    await writeFile(join(home, '.gitconfig'), `[safe]\n\tdirectory = *\n[user]\n\tname = Agent\n\temail = agent@example.com\n`);
    chownTo(user, home);
    return { repo, home, socketDir };
  }

  const baseEnv = (home: string) => ({
    PATH: `${dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin`,
    HOME: home,
    TMPDIR: join(home, 'tmp'),
    LANG: 'C.UTF-8',
  });

  async function runClaude(anthropic: { conversations: { match?: string; turns: AnthropicTurn[] }[] }): Promise<Run & { repo: string }> {
    const { repo, home, socketDir } = await workspace();
    const server = await startAgentApiServer({ anthropic, vars: { WORKDIR: repo }, socketPath: join(socketDir, 'api.sock') });
    try {
      const env = {
        ...baseEnv(home),
        ANTHROPIC_BASE_URL: `http://127.0.0.1:${PORT}`,
        ANTHROPIC_API_KEY: 'sk-ant-real-key-from-the-gateway',
        // What the agent needs to stay quiet and offline but for the API, and to offer its todo tools.
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
        DISABLE_TELEMETRY: '1',
        DISABLE_ERROR_REPORTING: '1',
        DISABLE_AUTOUPDATER: '1',
        CLAUDE_CODE_ENABLE_TODO_TOOLS: '1',
      };
      const command = [join(cliDir, 'node_modules/.bin/claude'), '-p', '--verbose', '--output-format', 'stream-json', '--dangerously-skip-permissions'];
      const input = 'Look around, write AGENT_NOTE.md, track the work as todos and have a sub-agent check the note.\n';
      return { ...(await runSealed({ agent: 'claude', command, env, cwd: repo, socketDir, input, server })), repo };
    } finally {
      await server.close();
    }
  }

  async function runCodex(openai: { conversations: { turns: OpenAITurn[] }[] }, providerExtra = ''): Promise<Run & { repo: string }> {
    const { repo, home, socketDir } = await workspace();
    const server = await startAgentApiServer({ openai, vars: { WORKDIR: repo }, socketPath: join(socketDir, 'api.sock') });
    try {
      await mkdir(join(home, '.codex'));
      // 0.171 ignores OPENAI_BASE_URL; a provider of our own with the login's key (auth.json) and no
      // WebSocket (the built-in provider tries wss:// first). update_plan is off by default in exec.
      await writeFile(
        join(home, '.codex/config.toml'),
        [
          'model = "gpt-5.5-codex"',
          'model_provider = "tsk"',
          '[model_providers.tsk]',
          'name = "OpenAI via tsk"',
          `base_url = "http://127.0.0.1:${PORT}/v1"`,
          'wire_api = "responses"',
          'requires_openai_auth = true',
          'supports_websockets = false',
          providerExtra,
          '[tools.update_plan]',
          'enabled = true',
          '[features]',
          'plugins = false',
          '[analytics]',
          'enabled = false',
          '',
        ].join('\n'),
      );
      await writeFile(join(home, '.codex/auth.json'), `${JSON.stringify({ OPENAI_API_KEY: 'sk-openai-real-key-from-the-gateway' })}\n`);
      chownTo(user, home);
      const env = { ...baseEnv(home), CODEX_HOME: join(home, '.codex') };
      const command = [join(cliDir, 'node_modules/.bin/codex'), 'exec', '--dangerously-bypass-approvals-and-sandbox', '--json', '-'];
      const input = 'Look around, plan the work, write AGENT_NOTE.md and sum up.\n';
      return { ...(await runSealed({ agent: 'codex', command, env, cwd: repo, socketDir, input, server })), repo };
    } finally {
      await server.close();
    }
  }

  it('should drive Claude Code through the scripted task: command, todos, file, sub-agent, summary with cost', async () => {
    const run = await runClaude(loadAgentApiFixture<AnthropicTurn>('claude-task'));
    expect(run.code, run.stderr).toBe(0);
    expect(await readFile(join(run.repo, 'AGENT_NOTE.md'), 'utf8')).toBe(NOTE);
    expect(git(run.repo, '-c', 'safe.directory=*', 'status', '--porcelain')).toBe('?? AGENT_NOTE.md');
    const calls = run.server.modelRequests();
    expect(calls.length).toBeGreaterThanOrEqual(9);
    expect(calls.every((request) => request.headers['x-api-key'] === 'sk-ant-real-key-from-the-gateway')).toBe(true);
    // Every turn of the script was served, the sub-agent's conversation (0/*) included.
    expect(calls.map((request) => request.answer)).toEqual(expect.arrayContaining(['anthropic 0/0', 'anthropic 0/1', 'anthropic 1/0', 'anthropic 1/6']));
    expect(run.lines).toEqual(
      expect.arrayContaining([
        '-> Bash: echo hello from the agent > /dev/null; ls',
        'Todo: [ ] Write AGENT_NOTE.md',
        'Todo: [x] Write AGENT_NOTE.md',
        `-> Write: ${run.repo}/AGENT_NOTE.md`,
        'Sub-agent started: Check the note (general-purpose)',
        `  | -> Read: ${run.repo}/AGENT_NOTE.md`,
        'Todo: [x] Check the note with a sub-agent',
      ]),
    );
    expect(run.lines.at(-1)).toMatch(/^Claude finished successfully, cost \$0\.\d{4}, [\d.]+s, 9 turns, tokens: 13900 in, 460 out\nDone: /);
    const outcome = run.parser.outcome();
    expect(outcome.success).toBe(true);
    expect(outcome.usage).toEqual({ costUsd: expect.any(Number), inputTokens: 13900, outputTokens: 460 });
    expect(outcome.usage?.costUsd).toBeGreaterThan(0);
  });

  it('should stop Claude Code at once on a 429 the SDK is told not to retry, exit 1 with the error in its result', async () => {
    const run = await runClaude({ conversations: [{ turns: [anthropicRateLimitTurn(new Date(Date.now() + 3_600_000))] }] });
    expect(run.code).toBe(1);
    expect(run.server.modelRequests()).toHaveLength(1);
    expect(run.parser.outcome().success).toBe(false);
    expect(run.parser.outcome().summary).toMatch(/^Claude failed \(API error 429\)/);
  });

  it('should drive Codex through the scripted task: command, plan, patch, summary with tokens', async () => {
    const run = await runCodex(loadAgentApiFixture<OpenAITurn>('codex-task'));
    expect(run.code, run.stderr).toBe(0);
    expect(await readFile(join(run.repo, 'AGENT_NOTE.md'), 'utf8')).toBe(NOTE);
    const calls = run.server.modelRequests();
    expect(calls.map((request) => request.answer)).toEqual(['openai 0/0', 'openai 0/1', 'openai 0/2', 'openai 0/3', 'openai 0/4']);
    expect(calls.every((request) => request.headers.authorization === 'Bearer sk-openai-real-key-from-the-gateway')).toBe(true);
    expect(run.lines).toEqual([
      "I'll look at the repository first.",
      '-> shell: echo hello from the agent > /dev/null; ls (exit 0)',
      'Todo list:',
      '  [ ] Write AGENT_NOTE.md',
      '  [ ] Summarise the work',
      `-> add: ${run.repo}/AGENT_NOTE.md`,
      'Todo list:',
      '  [x] Write AGENT_NOTE.md',
      '  [x] Summarise the work',
      'Done: I listed the repository and wrote AGENT_NOTE.md.',
      'Codex finished (tokens: 7600 in, 260 out)',
    ]);
    expect(run.parser.outcome()).toEqual({ success: true, summary: 'Codex finished (tokens: 7600 in, 260 out)', usage: { inputTokens: 7600, outputTokens: 260 } });
  });

  it('should stop Codex at once on a 429 when its provider does not retry, exit 1 with a failed turn', async () => {
    const run = await runCodex(
      { conversations: [{ turns: [openaiRateLimitTurn(new Date(Date.now() + 3_600_000))] }] },
      'request_max_retries = 0\nstream_max_retries = 0',
    );
    expect(run.code).toBe(1);
    expect(run.server.modelRequests()).toHaveLength(1);
    expect(run.parser.outcome().success).toBe(false);
    expect(run.parser.outcome().summary).toContain('429 Too Many Requests');
  });
});
