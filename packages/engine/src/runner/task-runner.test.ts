import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { DEFAULT_AGENT_API_ENDPOINTS } from '../agent-api/endpoints.js';
import { GATEWAY_SOCKET_PATH } from '../agent-api/bridge.js';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { newTaskId } from '../common/ids.js';
import { taskDir } from '../common/task-paths.js';
import { createDocker } from '../docker/docker-client.js';
import { ImageBuilder } from '../docker/image-builder.js';
import type { LogSink } from '../logging/index.js';
import type { TaskSpec } from '../model/index.js';
import { DirectNetworkProvider } from '../proxy/direct-network-provider.js';
import type { SandboxNetworkProvider } from '../proxy/network-provider.js';
import type { SandboxRuntime } from '../docker/sandbox-runtime.js';
import { noDenials } from '../proxy/proxy-denials.js';
import { anthropicRateLimitTurn, startAgentApiServer } from '../test-utils/agent-api-server.js';
import { FakeSandboxRuntime, fakeTaskImages, hostScriptAgent, type FakeAgent } from '../test-utils/fake-sandbox.js';
import { git, isolateGitConfig, makeRepo, repoState, tempDir } from '../test-utils/git-fixtures.js';
import { taskSpecFixture } from '../test-utils/task-spec-fixture.js';
import { NO_GRANT } from '../trust/index.js';
import { TaskRunner } from './task-runner.js';

/**
 * `TaskRunner.run` without Docker: real git (workspace, result branch), a stand-in sandbox runtime that
 * keeps the container's contract and images that need no build. Each outcome's shape: success, failure,
 * no changes, cancel, a budget stop that keeps the work.
 */

interface Setup {
  repo: string;
  dataDir: string;
  sandboxes: FakeSandboxRuntime;
  images: ReturnType<typeof fakeTaskImages>;
  runner: TaskRunner;
  lines: string[];
  log: LogSink;
}

async function setUp(agent: FakeAgent = hostScriptAgent, options: { anthropic?: string; network?: SandboxNetworkProvider; sandboxes?: SandboxRuntime } = {}): Promise<Setup> {
  await isolateGitConfig();
  // A copy, never a copy-on-write volume: that needs the Docker engine.
  vi.stubEnv('TSK_WORKSPACES', 'copy');
  const repo = await makeRepo({ 'README.md': '# demo\n', 'src/app.txt': 'one\n' });
  const dataDir = await tempDir('tsk-runner-data-');
  const sandboxes = new FakeSandboxRuntime(agent);
  const images = fakeTaskImages();
  const docker = createDocker();
  const runner = new TaskRunner({
    // Never asked: sandboxes and images come from the stand-ins.
    docker,
    images: new ImageBuilder(docker, { lockDir: dataDir }),
    network: options.network ?? new DirectNetworkProvider(),
    dataDir,
    workerName: 'w-test',
    agentIds: { uid: process.getuid?.() ?? 1000, gid: process.getgid?.() ?? 1000 },
    sandboxes: options.sandboxes ?? sandboxes,
    taskImages: images,
    ...(options.anthropic === undefined ? {} : { agentApiEndpoints: { ...DEFAULT_AGENT_API_ENDPOINTS, anthropic: options.anthropic } }),
  });
  const lines: string[] = [];
  return { repo, dataDir, sandboxes, images, runner, lines, log: { write: (source, line) => lines.push(`[${source}] ${line}`) } };
}

/** A task on the repository's HEAD, as `tsk add` snapshots it (its snapshot ref in the origin). */
function taskOn(setup: Setup, instructions: string, overrides: Partial<TaskSpec> = {}): TaskSpec {
  const id = newTaskId();
  const commit = git(setup.repo, 'rev-parse', 'HEAD');
  git(setup.repo, 'update-ref', `refs/tsk/snapshots/${id}`, commit);
  return taskSpecFixture({
    id,
    instructions,
    repoPath: setup.repo,
    source: { kind: 'local', repoPath: setup.repo, ref: `refs/tsk/snapshots/${id}`, commit },
    branch: `tsk/generic/demo/${id}`,
    ...overrides,
  });
}

function expectReleased(setup: Setup, spec: TaskSpec): void {
  expect(setup.sandboxes.live).toEqual([]);
  expect(existsSync(taskDir(setup.dataDir, spec.id))).toBe(false);
}

describe('TaskRunner.run without Docker (stand-in sandbox, real git)', () => {
  let setup: Setup;
  beforeEach(async () => {
    setup = await setUp();
  });

  it('COMPLETE: the agent’s change comes back as the task’s branch; the user’s tree is untouched', async () => {
    // Everything but its branches: the result branch is the one thing added.
    const userState = () => Object.fromEntries(Object.entries(repoState(setup.repo)).filter(([key]) => key !== '<branches>'));
    const before = userState();
    const spec = taskOn(setup, 'echo two >> src/app.txt\necho "changed app"');
    const result = await setup.runner.run(spec, { log: setup.log });
    expect(result).toMatchObject({ id: spec.id, status: 'COMPLETE', branch: spec.branch, error: undefined, baseCommit: spec.source.commit });
    expect(result.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(git(setup.repo, 'show', `${spec.branch}:src/app.txt`)).toBe('one\ntwo');
    expect(git(setup.repo, 'rev-parse', spec.branch)).toBe(result.commit);
    expect(userState()).toEqual(before);
    expect(git(setup.repo, 'for-each-ref', '--format=%(refname)', 'refs/heads/')).toBe(`refs/heads/main\nrefs/heads/${spec.branch}`);
    expect(setup.lines).toContain('[agent] changed app');
    expect(setup.images.requests).toEqual([spec.id]);
    expectReleased(setup, spec);
  });

  it('COMPLETE without changes: no branch, "No changes"', async () => {
    const spec = taskOn(setup, 'true');
    const result = await setup.runner.run(spec, { log: setup.log });
    expect(result).toMatchObject({ status: 'COMPLETE', branch: undefined, commit: undefined, summary: 'No changes' });
    expect(git(setup.repo, 'branch', '--list', 'tsk/*')).toBe('');
    expectReleased(setup, spec);
  });

  it('FAILED when the network cannot be released (the engine going away), keeping the branch it collected', async () => {
    // The engine refuses the removal while it shuts down; the sandbox has exited, the result is there.
    const failing = await setUp(hostScriptAgent, {
      network: {
        acquire: async () => ({
          network: { networkMode: 'none', env: [], build: { networkMode: 'bridge', args: {} } },
          denials: async () => noDenials(),
          release: async () => {
            throw new Error('Could not remove network tsk-egress-x: error deleting network endpoint count from store');
          },
        }),
      },
    });
    const spec = taskOn(failing, 'echo two >> src/app.txt');
    const result = await failing.runner.run(spec, { log: failing.log });
    expect(result).toMatchObject({ status: 'FAILED', branch: spec.branch, error: expect.stringContaining('Could not remove network') });
    expect(git(failing.repo, 'rev-parse', spec.branch)).toBe(result.commit);
    expectReleased(failing, spec);
  });

  it('FAILED with what stopped the sandbox when it could not be removed either (the engine going away)', async () => {
    const gone = await setUp(hostScriptAgent, {
      sandboxes: {
        cpuCount: async () => 1,
        create: async () => {
          const remove = async () => {
            throw new Error('Cannot connect to the Docker daemon');
          };
          return {
            name: 'tsk-gone',
            run: async () => {
              throw new Error('container tsk-gone stopped: the engine is shutting down');
            },
            runInteractive: async () => {
              throw new Error('not asked');
            },
            remove,
            [Symbol.asyncDispose]: remove,
          };
        },
      },
    });
    const spec = taskOn(gone, 'true');
    const result = await gone.runner.run(spec, { log: gone.log });
    expect(result).toMatchObject({ status: 'FAILED', error: 'container tsk-gone stopped: the engine is shutting down' });
  });

  it('FAILED: the agent’s exit code, no branch', async () => {
    const spec = taskOn(setup, 'echo partial > partial.txt\nexit 3');
    const result = await setup.runner.run(spec, { log: setup.log });
    expect(result).toMatchObject({ status: 'FAILED', error: 'Agent exited with code 3', branch: undefined });
    expect(git(setup.repo, 'branch', '--list', 'tsk/*')).toBe('');
    expectReleased(setup, spec);
  });

  it('CANCELLED: an abort while the agent runs kills its sandbox; nothing is collected', async () => {
    const controller = new AbortController();
    const spec = taskOn(setup, 'echo started\necho work > work.txt\nsleep 600');
    const running = setup.runner.run(spec, { log: setup.log, signal: controller.signal });
    await vi.waitFor(() => expect(setup.lines).toContain('[agent] started'), { timeout: 5000 });
    controller.abort();
    const result = await running;
    expect(result).toMatchObject({ status: 'CANCELLED', error: 'Cancelled', branch: undefined });
    expect(git(setup.repo, 'branch', '--list', 'tsk/*')).toBe('');
    expectReleased(setup, spec);
  });

  it('CANCELLED before the sandbox: an aborted signal never starts one', async () => {
    const controller = new AbortController();
    controller.abort();
    const spec = taskOn(setup, 'echo never > never.txt');
    const result = await setup.runner.run(spec, { log: setup.log, signal: controller.signal });
    expect(result).toMatchObject({ status: 'CANCELLED', error: 'Cancelled' });
    expect(setup.sandboxes.created).toHaveLength(0);
    expectReleased(setup, spec);
  });

  it('a budget stop (timeout) keeps the work: FAILED "timed out", the work on the branch', async () => {
    const spec = taskOn(setup, 'echo kept > kept.txt\necho waiting\nsleep 600');
    const result = await setup.runner.run(spec, { log: setup.log, grant: { ...NO_GRANT, budget: { timeoutSeconds: 1 } } });
    expect(result).toMatchObject({ status: 'FAILED', error: 'timed out after 1s', branch: spec.branch });
    expect(git(setup.repo, 'show', `${spec.branch}:kept.txt`)).toBe('kept');
    expect(setup.lines).toContain('[warn] Stopping the agent: timed out after 1s');
    expectReleased(setup, spec);
  });

  it('an agent that cannot reach its sandbox’s files fails the task, and everything is released', async () => {
    const broken = await setUp(async () => {
      throw new Error('container failed to start');
    });
    const spec = taskOn(broken, 'true');
    const result = await broken.runner.run(spec, { log: broken.log });
    expect(result).toMatchObject({ status: 'FAILED', error: 'container failed to start' });
    expectReleased(broken, spec);
  });

  it('the agent’s leftover, uncommitted and committed work both reach the branch', async () => {
    const spec = taskOn(
      setup,
      ['git config user.email agent@example.com', 'git config user.name Agent', 'echo a > a.txt', 'git add a.txt', 'git commit -q -m "agent: a"', 'echo b > b.txt'].join('\n'),
    );
    const result = await setup.runner.run(spec, { log: setup.log });
    expect(result.status).toBe('COMPLETE');
    expect(git(setup.repo, 'show', `${spec.branch}:a.txt`)).toBe('a');
    expect(git(setup.repo, 'show', `${spec.branch}:b.txt`)).toBe('b');
    expect(git(setup.repo, 'log', '--format=%s', `main..${spec.branch}`).split('\n')).toContain('agent: a');
  });
});

describe('TaskRunner.run: a cost budget', () => {
  it('stops the agent once its running cost passes max_cost_usd, keeps its work: FAILED "budget exceeded"', async () => {
    const setup = await setUp(async ({ workspaceDir, stdout, signal }) => {
      await writeFile(join(workspaceDir, 'step1.txt'), 'first\n');
      // One costly message, as Claude's stream-json reports it; then it would go on until stopped.
      const message = { id: 'msg_budget', type: 'message', role: 'assistant', model: 'claude-sonnet-4-5', content: [{ type: 'text', text: 'Thinking hard.' }], usage: { input_tokens: 400_000, output_tokens: 100_000 } };
      stdout(JSON.stringify({ type: 'assistant', message, parent_tool_use_id: null, session_id: 's-1' }));
      await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
      return 137;
    });
    const spec = taskOn(setup, 'Do two steps.', { agent: 'claude' });
    const grant = { ...NO_GRANT, budget: { maxCostUsd: 0.5 }, credential: { kind: 'api-key' as const, service: 'anthropic' as const, key: 'sk-ant-test', source: 'test' } };
    const result = await setup.runner.run(spec, { log: setup.log, grant });
    expect(result.status).toBe('FAILED');
    expect(result.error).toMatch(/^budget exceeded: \$\d+\.\d\d of \$0\.50$/);
    expect(result.usage?.costUsd).toBeGreaterThan(0.5);
    expect(result.branch).toBe(spec.branch);
    expect(git(setup.repo, 'show', `${spec.branch}:step1.txt`)).toBe('first');
    expectReleased(setup, spec);
  });
});

describe('TaskRunner.run: what the sandbox is given', () => {
  it('the instructions, the workspace at the task’s commit, the task’s environment; the CPU limit clamped to the runtime’s', async () => {
    let seen: { instructions: string; readme: string; env: Record<string, string>; cpus: number | undefined } | undefined;
    const setup = await setUp(async ({ instructions, workspaceDir, env, spec }) => {
      const { readFile } = await import('node:fs/promises');
      seen = { instructions, readme: await readFile(join(workspaceDir, 'README.md'), 'utf8'), env, cpus: spec.HostConfig?.NanoCpus };
      return 0;
    });
    // A change after the snapshot is not the task's.
    const spec = taskOn(setup, 'do the thing', { config: { ...taskSpecFixture().config, cpu: 8, env: [{ name: 'FOO', value: 'bar' }] } });
    await writeFile(join(setup.repo, 'README.md'), 'later\n');
    const result = await setup.runner.run(spec, { log: setup.log });
    expect(result.status).toBe('COMPLETE');
    expect(seen?.instructions).toBe('do the thing');
    expect(seen?.readme).toBe('# demo\n');
    expect(seen?.env.FOO).toBe('bar');
    expect(seen?.cpus).toBe(2 * 1e9);
  });
});

describe('TaskRunner.run: a rate-limited agent', () => {
  it('FAILED with retryAt when the gateway saw the API answer 429 and the agent gave up', async () => {
    const resetAt = new Date(Date.now() + 3_600_000);
    const server = await startAgentApiServer({ anthropic: { conversations: [{ turns: [anthropicRateLimitTurn(resetAt)] }] } });
    try {
      // The agent's one model request, through the gateway's socket mounted into its sandbox, then it gives up.
      const setup = await setUp(
        async ({ spec, stdout }) => {
          const socketPath = spec.HostConfig?.Mounts?.find((mount) => mount.Target === GATEWAY_SOCKET_PATH)?.Source;
          if (socketPath === undefined) throw new Error('no gateway socket mounted');
          const status = await new Promise<number>((resolve, reject) => {
            const body = JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 10, stream: true, messages: [{ role: 'user', content: 'hi' }], tools: [{ name: 'Bash', description: 'Run a command', input_schema: { type: 'object' } }] });
            const call = request({ socketPath, path: '/v1/messages', method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': 'placeholder', 'anthropic-version': '2023-06-01' } }, (response) => {
              response.resume();
              response.on('end', () => resolve(response.statusCode ?? 0));
            });
            call.on('error', reject);
            call.end(body);
          });
          stdout(JSON.stringify({ type: 'result', subtype: 'error', is_error: true, result: `API Error: ${status}` }));
          return 1;
        },
        { anthropic: server.url },
      );
      const spec = taskOn(setup, 'Do it.', { agent: 'claude' });
      const result = await setup.runner.run(spec, { log: setup.log, grant: { ...NO_GRANT, credential: { kind: 'api-key', service: 'anthropic', key: 'sk-ant-test', source: 'test' } } });
      expect(result.status).toBe('FAILED');
      expect(result.error).toBe(`rate limited until ${result.retryAt ?? ''}`);
      // The reset the API's headers gave (to the second), not the agent's say.
      expect(Math.abs(Date.parse(result.retryAt ?? '') - resetAt.getTime())).toBeLessThanOrEqual(2000);
      expect(server.modelRequests()).toHaveLength(1);
      expect(server.modelRequests()[0]?.headers['x-api-key']).toBe('sk-ant-test');
      expectReleased(setup, spec);
    } finally {
      await server.close();
    }
  });

  it('no retryAt when the agent failed for another reason', async () => {
    const setup = await setUp(async () => 2);
    const spec = taskOn(setup, 'Do it.');
    const result = await setup.runner.run(spec, { log: setup.log });
    expect(result.status).toBe('FAILED');
    expect(result.retryAt).toBeUndefined();
  });
});
