import { mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../errors/index.js';
import { loadConfig } from './load-config.js';

// A throwaway home, config dir and repository per test: never the real ~/.config.
let root: string;
let env: NodeJS.ProcessEnv;
let repo: string;
let userFile: string;
let projectFile: string;

async function write(path: string, lines: string[]): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${lines.join('\n')}\n`);
}

beforeEach(async () => {
  root = await realpath(await mkdtemp(join(tmpdir(), 'tsk-tsk-keys-')));
  repo = join(root, 'my-repo');
  await mkdir(repo);
  await mkdir(join(root, 'home'));
  userFile = join(root, 'config', 'tsk', 'tsk.toml');
  projectFile = join(repo, '.tsk', 'tsk.toml');
  env = { HOME: join(root, 'home'), TSK_CONFIG_HOME: join(root, 'config'), TSK_DATA_HOME: join(root, 'data') };
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function failure(): Promise<Error> {
  const error: unknown = await loadConfig({ repoPath: repo, env }).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof ConfigError)) throw new Error(`expected a ConfigError, got ${String(error)}`);
  expect(error.message).not.toContain('\n');
  return error;
}

describe('TSK configuration', () => {
  it("should keep tsk's own [proxy] keys beside TSK's old ones, and take a bare 0 from the environment", async () => {
    await write(userFile, ['[proxy]', 'idle_timeout = "90s"', 'host_services = [5432]']);
    const config = await loadConfig({ repoPath: repo, env });
    expect(config.machine.proxy).toEqual({ idleTimeoutMs: 90_000 });
    expect(config.task.hostPorts).toEqual([5432]);
    expect((await loadConfig({ repoPath: repo, env: { ...env, TSK_PROXY_IDLE_TIMEOUT: '0' } })).machine.proxy).toEqual({ idleTimeoutMs: 0 });
    await write(userFile, ['[proxy]', 'idle_timeout = "soon"']);
    expect((await failure()).message).toMatch(new RegExp(`^${userFile}: proxy\\.idle_timeout: `));
  });

  it('should read the old [docker], [proxy] and [git_town] sections as [defaults], one warning each', async () => {
    // As TSK's README documented it before [defaults] existed.
    await write(userFile, [
      '[docker]',
      'memory_limit_gb = 6.0',
      'cpu_limit = 2',
      'dind = true',
      'container_engine = "docker"',
      '[proxy]',
      'host_services = [5432, 6379]',
      '[git_town]',
      'enabled = true',
      '[project.my-repo]',
      'agent = "codex"',
      'stack = "go"',
      'volumes = [{ name = "go-build-cache", container = "/home/agent/.cache/go-build" }]',
    ]);
    const config = await loadConfig({ repoPath: repo, env });
    expect(config.task).toMatchObject({
      memoryGb: 6,
      cpu: 2,
      hostPorts: [5432, 6379],
      gitTown: true,
      agent: 'codex',
      stack: 'go',
      volumes: [{ kind: 'named', name: 'tsk-go-build-cache', container: '/home/agent/.cache/go-build', readonly: false }],
    });
    expect(config.machine.containerEngine).toBe('docker');
    expect(config.warnings).toEqual([
      `${userFile}: docker.memory_limit_gb: TSK’s old key, read as defaults.memory_gb = 6; write memory_gb under [defaults] instead`,
      `${userFile}: docker.cpu_limit: TSK’s old key, read as defaults.cpu = 2; write cpu under [defaults] instead`,
      `${userFile}: docker.dind: TSK’s Docker-in-Docker is not supported: a sandbox never gets a Docker engine; ignored`,
      `${userFile}: docker.container_engine: TSK’s old key; docker is tsk’s only engine, remove this line`,
      `${userFile}: proxy.host_services: TSK’s old key, read as defaults.host_ports = [5432, 6379]; write host_ports under [defaults] instead`,
      `${userFile}: git_town.enabled: TSK’s old key, read as defaults.git_town = true; write git_town under [defaults] instead`,
    ]);
  });

  it('should read current TSK names in every table as tsk’s, and ignore the keys tsk has no equivalent for', async () => {
    await write(userFile, [
      'container_engine = "podman"',
      '[server]',
      'auto_clean_enabled = false',
      '[defaults]',
      'memory_limit_gb = 4',
      'cpu_limit = 3',
      'host_services = [8080]',
      'dind = false',
      'privileged = true',
      'sudo = true',
      'devices = ["/dev/fuse"]',
      '[project.my-repo]',
      'memory_gb = 5',
      '[project.other]',
      'cpu_limit = 1',
    ]);
    await write(projectFile, ['cpu_limit = 6', 'sudo = true', 'setup = "RUN true"']);
    const config = await loadConfig({ repoPath: repo, env });
    expect(config.task).toMatchObject({ memoryGb: 5, cpu: 6, hostPorts: [8080], devices: ['/dev/fuse'], setup: 'RUN true' });
    expect(config.machine).toMatchObject({ containerEngine: 'docker', server: { workers: 1, autoCleanAgeDays: 0 } });
    expect(config.warnings).toEqual([
      `${userFile}: container_engine: podman is not supported: tsk runs its sandboxes on Docker only; ignored`,
      `${userFile}: server.auto_clean_enabled: TSK key, read as server.auto_clean_age_days = 0; write auto_clean_age_days = 0 instead`,
      `${userFile}: defaults.memory_limit_gb: TSK’s name for memory_gb, read as defaults.memory_gb = 4; write memory_gb instead`,
      `${userFile}: defaults.cpu_limit: TSK’s name for cpu, read as defaults.cpu = 3; write cpu instead`,
      `${userFile}: defaults.host_services: TSK’s name for host_ports, read as defaults.host_ports = [8080]; write host_ports instead`,
      `${userFile}: defaults.dind: TSK’s Docker-in-Docker is not supported: a sandbox never gets a Docker engine; ignored`,
      `${userFile}: defaults.privileged: privileged sandboxes are not supported: every sandbox drops its capabilities and runs with no-new-privileges; ignored`,
      `${userFile}: defaults.sudo: sudo in the sandbox is not supported: the agent never becomes root (image layers run as root while the image is built); ignored`,
      `${userFile}: project.other.cpu_limit: TSK’s name for cpu, read as project.other.cpu = 1; write cpu instead`,
      `${projectFile}: cpu_limit: TSK’s name for cpu, read as cpu = 6; write cpu instead`,
      `${projectFile}: sudo: sudo in the sandbox is not supported: the agent never becomes root (image layers run as root while the image is built); ignored`,
    ]);
    // The same files give the same lines: a command that loads twice can show each once.
    expect((await loadConfig({ repoPath: repo, env })).warnings).toEqual(config.warnings);
  });

  it('should keep tsk’s own auto-clean when TSK’s is on', async () => {
    await write(userFile, ['[server]', 'auto_clean_enabled = true']);
    const config = await loadConfig({ env });
    expect(config.machine.server.autoCleanAgeDays).toBe(7);
    expect(config.warnings).toEqual([
      `${userFile}: server.auto_clean_enabled: tsk cleans finished tasks while auto_clean_age_days is above 0 (default 7); remove this line`,
    ]);
  });

  it('should still refuse typos, wrong values and a key set twice, naming what the file wrote', async () => {
    await write(userFile, ['[docker]', 'memroy_limit_gb = 4']);
    expect((await failure()).message).toBe(
      `${userFile}: docker.memroy_limit_gb: unknown key (did you mean memory_limit_gb?); valid keys: memory_limit_gb, cpu_limit, cpu_quota, dind, container_engine (in TSK’s old [docker] section)`,
    );
    await write(userFile, ['[defaults]', 'dindd = true']);
    expect((await failure()).message).toMatch(new RegExp(`^${userFile}: defaults\\.dindd: unknown key; valid keys: agent, `));
    await write(userFile, ['[defaults]', 'cpu_limit = "two"']);
    expect((await failure()).message).toBe(`${userFile}: defaults.cpu_limit: expected a number greater than 0, got "two"`);
    await write(userFile, ['[proxy]', 'host_services = [70000]']);
    expect((await failure()).message).toMatch(new RegExp(`^${userFile}: proxy\\.host_services\\[0\\]: `));
    await write(userFile, ['[defaults]', 'memory_gb = 4', 'memory_limit_gb = 8']);
    expect((await failure()).message).toBe(`${userFile}: defaults.memory_limit_gb: set memory_gb or memory_limit_gb (TSK’s name for it), not both`);
    await write(userFile, ['[docker]', 'memory_limit_gb = 8', '[defaults]', 'memory_gb = 4']);
    expect((await failure()).message).toBe(`${userFile}: docker.memory_limit_gb: defaults.memory_gb sets memory_gb too; keep one`);
    await write(userFile, ['[docker]', 'cpu_limit = 2', 'cpu_quota = 4']);
    expect((await failure()).message).toBe(`${userFile}: docker.cpu_quota: docker.cpu_limit sets cpu too; keep one`);
    await write(userFile, ['[server]', 'auto_clean_enabled = "no"']);
    expect((await failure()).message).toBe(`${userFile}: server.auto_clean_enabled: expected true or false, got "no"`);
    await write(userFile, ['container_engine = "containerd"']);
    expect((await failure()).message).toBe(`${userFile}: container_engine: expected "docker", got "containerd"`);
  });

  it('should keep a repository’s TSK names for host-reaching keys under the user’s trust', async () => {
    await write(projectFile, ['host_services = [5432]']);
    const refused = await failure();
    expect(refused.message).toBe(`${projectFile}: host_services[0] 5432: keys that reach this machine are refused from a repository you have not trusted`);
    await write(userFile, [`trusted_repositories = [${JSON.stringify(repo)}]`]);
    expect((await loadConfig({ repoPath: repo, env })).task.hostPorts).toEqual([5432]);
  });
});
