import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, realpath, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { assetsRoot } from '../common/assets.js';
import { composeImagePlan, renderDryRun } from '../docker/dockerfile-composer.js';
import { ConfigError } from '../errors/index.js';
import { TASK_LIMITS } from '../model/task-limits.js';
import { taskSpecFixture, workerPolicyFixture } from '../test-utils/task-spec-fixture.js';
import { policyRefusals } from '../trust/job-policy.js';
import { loadConfig, type LoadConfigOptions } from './load-config.js';
import { writeText as write } from '../test-utils/write-text.js';

// A throwaway home, config dir and repository per test: never the real ~/.config.
let root: string;
let env: NodeJS.ProcessEnv;
let repo: string;
let configDir: string;
let userFile: string;
let projectFile: string;


const projectSnippet = (kind: string, name: string): string => join(repo, '.tsk', 'dockerfiles', kind, `${name}.dockerfile`);
const userSnippet = (kind: string, name: string): string => join(configDir, 'dockerfiles', kind, `${name}.dockerfile`);

beforeEach(async () => {
  root = await realpath(await mkdtemp(join(tmpdir(), 'tsk-snippets-')));
  // The project name is the sanitised directory name: `my-repo`.
  repo = join(root, 'My Repo');
  await mkdir(repo);
  await mkdir(join(root, 'home'));
  configDir = join(root, 'config', 'tsk');
  userFile = join(configDir, 'tsk.toml');
  projectFile = join(repo, '.tsk', 'tsk.toml');
  env = { HOME: join(root, 'home'), TSK_CONFIG_HOME: join(root, 'config'), TSK_DATA_HOME: join(root, 'data') };
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const load = (options: Partial<LoadConfigOptions> = {}) => loadConfig({ repoPath: repo, env, detectedStack: 'go', ...options });

async function failure(): Promise<ConfigError> {
  const error: unknown = await load().then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof ConfigError)) throw new Error(`expected a ConfigError, got ${String(error)}`);
  expect(error.message).not.toContain('\n');
  return error;
}

describe('Dockerfile snippets', () => {
  it('should take each layer from the highest level: a level’s keys over its snippet, the project over the user', async () => {
    const stack = async () => {
      const config = await load();
      return { setup: config.task.stackConfig.go?.setup, origin: config.layerOrigins.stackConfig.go };
    };
    expect(await stack()).toEqual({ setup: undefined, origin: undefined });

    await write(userSnippet('stack', 'go'), 'RUN user-snippet\n');
    expect(await stack()).toEqual({ setup: 'RUN user-snippet\n', origin: userSnippet('stack', 'go') });

    await write(userFile, '[defaults.stack_config.go]\nsetup = "RUN user-defaults"\n');
    expect(await stack()).toEqual({ setup: 'RUN user-defaults', origin: `${userFile}: defaults.stack_config.go.setup` });

    await write(projectSnippet('stack', 'go'), 'RUN project-snippet\n');
    expect(await stack()).toEqual({ setup: 'RUN project-snippet\n', origin: projectSnippet('stack', 'go') });

    await write(projectFile, '[stack_config.go]\nsetup = "RUN project-file"\n');
    expect(await stack()).toEqual({ setup: 'RUN project-file', origin: `${projectFile}: stack_config.go.setup` });

    // The user's own word for this one project is above the repository's.
    await write(userFile, '[defaults.stack_config.go]\nsetup = "RUN user-defaults"\n[project.my-repo.stack_config.go]\nsetup = "RUN user-project"\n');
    expect(await stack()).toEqual({ setup: 'RUN user-project', origin: `${userFile}: project.my-repo.stack_config.go.setup` });
  });

  it('should read the snippets of the task’s stack, agent and project only, by the names the task uses', async () => {
    await write(projectSnippet('project', 'my-repo'), 'RUN project-layer\n');
    await write(projectSnippet('project', 'other'), 'RUN not-this-project\n');
    await write(userSnippet('agent', 'codex'), 'RUN codex-layer\n');
    await write(userSnippet('agent', 'claude'), 'RUN not-this-agent\n');
    await write(projectSnippet('stack', 'python'), 'RUN not-this-stack\n');
    const config = await load({ cli: { agent: 'codex' } });
    expect(config.task.setup).toBe('RUN project-layer\n');
    expect(config.task.agentConfig).toEqual({ codex: { setup: 'RUN codex-layer\n' } });
    expect(config.task.stackConfig).toEqual({});
    expect(config.layerOrigins).toEqual({
      setup: projectSnippet('project', 'my-repo'),
      stackConfig: {},
      agentConfig: { codex: userSnippet('agent', 'codex') },
    });
    // A stack chosen on the command line (or in a file) picks its snippet, which may define a new stack.
    await write(projectSnippet('stack', 'elixir'), 'RUN elixir\n');
    expect((await load({ cli: { stack: 'elixir' } })).task.stackConfig).toEqual({ elixir: { setup: 'RUN elixir\n' } });
    // Without a repository (tsk list, a worker's own settings) no snippet is read.
    expect((await loadConfig({ env })).task.agentConfig).toEqual({});
  });

  it('should compose project and user snippets into the Dockerfile in layer order, run as root like setup, with their origins', async () => {
    await write(userSnippet('stack', 'go'), '# user stack\nRUN echo user-stack\n');
    await write(projectSnippet('project', 'my-repo'), 'RUN echo project-snippet\n');
    await write(userSnippet('agent', 'script'), 'RUN echo user-agent\n');
    // The project's snippet is over the user's [defaults] setup.
    await write(userFile, '[defaults]\nsetup = "RUN echo user-setup"\n');
    const config = await load({ cli: { agent: 'script' } });
    const input = {
      config: config.task,
      stack: 'go',
      agent: 'script',
      project: config.project,
      agentUid: 1000,
      agentGid: 1000,
      builtInDir: join(assetsRoot(), 'dockerfiles'),
    };
    const plan = composeImagePlan({ ...input, origins: config.layerOrigins });
    const { dockerfile } = plan;
    const order = ['# ---- tsk layer base', 'echo user-stack', 'echo project-snippet', 'echo user-agent', 'USER agent'].map((text) => dockerfile.indexOf(text));
    expect(order.every((at) => at >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(dockerfile).not.toContain('user-setup');
    expect(dockerfile).toContain('# ---- tsk layer project: my-repo (config) ----\nUSER root\nRUN echo project-snippet\n');
    expect(dockerfile).toContain('# ---- tsk layer stack: go (config) ----\nUSER root\n# user stack\nRUN echo user-stack\n');
    expect(renderDryRun(plan).split('\n').slice(1, 5)).toEqual([
      `# layer base: ${config.task.baseImage} (built-in dockerfiles/base/default.dockerfile)`,
      `# layer stack: go (${userSnippet('stack', 'go')})`,
      `# layer project: my-repo (${projectSnippet('project', 'my-repo')})`,
      `# layer agent: script (${userSnippet('agent', 'script')})`,
    ]);
    // The origin is shown, never built in: the image is the same wherever the plan is made.
    expect(composeImagePlan(input).tag).toBe(plan.tag);
  });

  it('should count snippets as image layers: a teammate’s task carrying one needs allow_image_layers', async () => {
    await write(projectSnippet('project', 'my-repo'), 'RUN echo from-the-repository\n');
    const config = await load();
    const spec = taskSpecFixture({ config: { ...config.task, agent: 'script', stack: 'go' }, stack: 'go' });
    const teammate = { name: 'bob', publicKey: spec.signer.key, owner: false };
    const context = { policy: workerPolicyFixture({ repositories: ['/repo'] }), baseImage: config.task.baseImage, remote: undefined };
    expect(policyRefusals(spec, teammate, context)).toEqual([
      'its own image layers: setup, stack_config, agent_config or a stack tsk does not ship (allow_image_layers)',
    ]);
  });

  it('should refuse a repository snippet that leads outside the repository, without reading what it points at', async () => {
    const secret = await write(join(root, 'home', '.ssh', 'id_ed25519'), 'PRIVATE KEY MATERIAL\n');
    const outside = (path: string) =>
      `${path}: leads outside the repository (a symbolic link); tsk reads a repository's Dockerfile snippets only from files inside it`;
    await mkdir(join(repo, '.tsk', 'dockerfiles', 'project'), { recursive: true });
    await symlink(secret, projectSnippet('project', 'my-repo'));
    const linkedFile = await failure();
    expect(linkedFile.message).toBe(outside(projectSnippet('project', 'my-repo')));
    expect(linkedFile.message).not.toContain('PRIVATE');

    // A linked folder on the way is refused the same.
    await rm(join(repo, '.tsk'), { recursive: true });
    await write(join(root, 'elsewhere', 'project', 'my-repo.dockerfile'), 'RUN echo elsewhere\n');
    await mkdir(join(repo, '.tsk'));
    await symlink(join(root, 'elsewhere'), join(repo, '.tsk', 'dockerfiles'));
    expect((await failure()).message).toBe(outside(projectSnippet('project', 'my-repo')));

    // A link to another file of the repository shows nothing the repository does not hold.
    await rm(join(repo, '.tsk'), { recursive: true });
    await write(join(repo, 'docker', 'deps.dockerfile'), 'RUN echo shared-in-repo\n');
    await mkdir(join(repo, '.tsk', 'dockerfiles', 'project'), { recursive: true });
    await symlink('../../../docker/deps.dockerfile', projectSnippet('project', 'my-repo'));
    expect((await load()).task.setup).toBe('RUN echo shared-in-repo\n');

    // The user's own folder may link anywhere (dotfile managers do).
    await rm(join(repo, '.tsk'), { recursive: true });
    await mkdir(configDir, { recursive: true });
    await symlink(join(root, 'elsewhere'), join(configDir, 'dockerfiles'));
    expect((await load()).task.setup).toBe('RUN echo elsewhere\n');
  });

  it('should refuse a snippet that is not a regular file, or too large for a task, naming it', async () => {
    await mkdir(join(repo, '.tsk', 'dockerfiles', 'stack'), { recursive: true });
    // A FIFO must be refused, not read: reading one would hang tsk.
    execFileSync('mkfifo', [projectSnippet('stack', 'go')]);
    expect((await failure()).message).toBe(`${projectSnippet('stack', 'go')}: not a regular file; a Dockerfile snippet must be one`);
    await rm(projectSnippet('stack', 'go'));
    await write(userSnippet('agent', 'claude'), `RUN true ${'#'.repeat(TASK_LIMITS.setupBytes)}\n`);
    expect((await failure()).message).toBe(
      `${userSnippet('agent', 'claude')}: ${TASK_LIMITS.setupBytes + 10} bytes; an image layer may have at most ${TASK_LIMITS.setupBytes}`,
    );
  });

  it('should use <config>/tsk/squid.conf when no level sets squid_conf', async () => {
    await write(join(configDir, 'squid.conf'), 'http_port 3128\nhttp_access deny all\n');
    expect((await load()).task.squidConf).toBe('http_port 3128\nhttp_access deny all\n');
    expect((await loadConfig({ env })).task.squidConf).toBe('http_port 3128\nhttp_access deny all\n');
    await write(userFile, '[defaults]\nsquid_conf = "http_access allow all"\n');
    expect((await load()).task.squidConf).toBe('http_access allow all');
  });
});
