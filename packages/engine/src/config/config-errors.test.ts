import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, InputError } from '../errors/index.js';
import { loadConfig, type LoadConfigOptions } from './load-config.js';
import { writeText as write } from '../test-utils/write-text.js';

// A throwaway home, config dir and repository per test: never the real ~/.config.
let root: string;
let env: NodeJS.ProcessEnv;
let repo: string;
let userFile: string;
let projectFile: string;


beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'tsk-config-'));
  repo = join(root, 'repo');
  await mkdir(join(root, 'home'), { recursive: true });
  userFile = join(root, 'config', 'tsk', 'tsk.toml');
  projectFile = join(repo, '.tsk', 'tsk.toml');
  env = { HOME: join(root, 'home'), TSK_CONFIG_HOME: join(root, 'config') };
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** The ConfigError (or other error) loadConfig throws, checked to be a single line. */
async function failure(options: LoadConfigOptions = {}): Promise<Error> {
  const error: unknown = await loadConfig({ repoPath: repo, env, ...options }).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof Error)) throw new Error('expected loadConfig to fail');
  expect(error.message).not.toContain('\n');
  return error;
}

/** Lets the project file set keys that reach this machine, so the errors after that check show. */
async function trustRepository(): Promise<void> {
  await write(userFile, `trusted_repositories = [${JSON.stringify(repo)}]\n`);
}

describe('loadConfig errors', () => {
  it('should report malformed TOML with file and line', async () => {
    await write(projectFile, 'agent = "claude"\nmemory_gb = = 3\n');
    const error = await failure();
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toMatch(new RegExp(`^${projectFile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2: invalid TOML: `));
  });

  it('should report a configuration file that cannot be read', async () => {
    await mkdir(projectFile, { recursive: true });
    expect((await failure()).message).toBe(`${projectFile}: cannot read the configuration file (EISDIR)`);
  });

  it('should name the full key path of an unknown key and suggest the right one', async () => {
    await write(userFile, '[project.foo]\nmemroy_gb = 3\n');
    const error = await failure();
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain(`${userFile}: project.foo.memroy_gb: unknown key (did you mean memory_gb?); valid keys: agent, stack, memory_gb`);
  });

  it('should reject unknown keys in tables that do not apply to this project', async () => {
    await write(userFile, '[project.someone-else]\nbogus = 1\n');
    expect((await failure()).message).toContain('project.someone-else.bogus: unknown key');
  });

  it('should reject unknown keys in the project file and in machine tables', async () => {
    await write(projectFile, 'colour = "blue"\n');
    expect((await failure()).message).toBe(`${projectFile}: colour: unknown key; valid keys: agent, stack, memory_gb, cpu, setup, stack_config, agent_config, host_ports, env, env_from_worker, volumes, devices, squid_conf, squid_conf_path, git_town, remote, push_branches, ca_certificates, max_cost_usd, timeout, max_turns, model`);
    await rm(projectFile);
    await write(userFile, '[server]\nworkerz = 2\n');
    expect((await failure()).message).toContain(`${userFile}: server.workerz: unknown key (did you mean workers?)`);
  });

  it('should take the agent API endpoints only from the machine’s own file, and only as http(s) URLs without credentials', async () => {
    // A repository must not send the real key elsewhere.
    await write(projectFile, '[agent_api]\nanthropic = "https://attacker.example"\n');
    expect((await failure()).message).toContain('agent_api');
    expect((await failure()).message).toContain('user-only key');
    await rm(projectFile);
    await write(userFile, '[agent_api]\nanthropic = "ftp://api.example"\n');
    expect((await failure()).message).toBe(`${userFile}: agent_api.anthropic: expected an http(s) URL, got "ftp://api.example"`);
    await write(userFile, '[agent_api]\nopenai = "https://me:secret@api.example/v1"\n');
    expect((await failure()).message).toBe(`${userFile}: agent_api.openai: expected an http(s) URL without a user or password in it`);
  });

  it('should say where a misplaced key belongs', async () => {
    await write(projectFile, 'base_image = "alpine"\n');
    expect((await failure()).message).toBe(`${projectFile}: base_image: base_image is a user-only key; set it at the top level of ${userFile}`);
    await rm(projectFile);
    await write(userFile, 'memory_gb = 3\n');
    expect((await failure()).message).toBe(`${userFile}: memory_gb: memory_gb is a shared key; set it under [defaults] or [project.<name>]`);
  });

  it.each([
    ['memory_gb = "twelve"', 'memory_gb: expected a number greater than 0, got "twelve"'],
    ['cpu = 0', 'cpu: expected a number greater than 0, got 0'],
    ['timeout = "90"', 'timeout: expected a duration such as "45s", "90m" or "2h", got "90"'],
    ['timeout = "0s"', 'timeout: expected a duration such as "45s", "90m" or "2h", got "0s"'],
    ['max_cost_usd = -1', 'max_cost_usd: expected a number greater than 0, got -1'],
    ['max_turns = 2.5', 'max_turns: expected a whole number of 1 or more, got 2.5'],
    ['model = "opus; rm -rf ~"', 'model: expected a model name of letters, digits and . _ : / @ - (at most 100), got "opus; rm -rf ~"'],
    ['git_town = "no"', 'git_town: expected true or false, got "no"'],
    ['agent = "gpt"', 'agent: expected one of claude, codex, no-op, script, got "gpt"'],
    ['host_ports = [80, 70000]', 'host_ports[1]: expected a port number from 1 to 65535, got 70000'],
    ['host_ports = 80', 'host_ports: expected a list of ports, got 80'],
    ['env = [{ name = "A", value = 1 }]', 'env[0].value: expected a string, got 1'],
    ['env = [{ name = "A", value = "1" }, { name = "A", value = "2" }]', 'env[1]: duplicate name "A" in one list'],
    ['env = [{ nmae = "A", value = "1" }]', 'env[0].nmae: unknown key; entries take name, value'],
    ['devices = ["fuse"]', 'devices[0]: expected a device path such as "/dev/fuse", got "fuse"'],
    ['setup = ["RUN a"]', 'setup: expected a string, got a list'],
    ['stack_config = "rust"', 'stack_config: expected a table, got "rust"'],
  ])('should name the key and the expected type for %s', async (line, detail) => {
    await write(projectFile, `${line}\n`);
    const error = await failure();
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toBe(`${projectFile}: ${detail}`);
  });

  it.each([
    ['{ container = "/c" }', 'volumes[0]: expected exactly one of host (a bind mount) or name (a named volume)'],
    ['{ host = "/h", name = "n", container = "/c" }', 'volumes[0]: expected exactly one of host (a bind mount) or name (a named volume)'],
    ['{ host = "relative/dir", container = "/c" }', 'volumes[0].host: expected an absolute host path (or ~/...), got "relative/dir"'],
    ['{ host = "/h", container = "c" }', 'volumes[0].container: expected an absolute container path, got "c"'],
    ['{ name = "bad name", container = "/c" }', 'volumes[0].name: expected a volume name of letters, digits, _ . -, got "bad name"'],
    ['{ host = "/h", container = "/c", readonly = "yes" }', 'volumes[0].readonly: expected true or false, got "yes"'],
    ['{ host = "/a", container = "/c" }, { name = "b", container = "/c" }', 'volumes[1]: duplicate container path "/c" in one list'],
  ])('should validate volume %s', async (entries, detail) => {
    await write(userFile, `[defaults]\nvolumes = [${entries}]\n`);
    expect((await failure()).message).toBe(`${userFile}: defaults.${detail}`);
  });

  it('should validate stack_config and agent_config entries', async () => {
    await write(projectFile, '[agent_config.claud]\nsetup = "RUN x"\n');
    expect((await failure()).message).toBe(`${projectFile}: agent_config.claud: unknown agent (did you mean claude?); valid agents: claude, codex, no-op, script`);
    await write(projectFile, '[stack_config.rust]\nsetpu = "RUN x"\n');
    expect((await failure()).message).toBe(`${projectFile}: stack_config.rust.setpu: unknown key (did you mean setup?); valid keys: setup`);
    await write(userFile, '[project.p.stack_config.rust]\nsetup = 1\n');
    await rm(projectFile);
    expect((await failure()).message).toBe(`${userFile}: project.p.stack_config.rust.setup: expected a string, got 1`);
  });

  it('should reject squid_conf and squid_conf_path together', async () => {
    await write(projectFile, 'squid_conf = "x"\nsquid_conf_path = "/etc/squid.conf"\n');
    expect((await failure()).message).toBe(`${projectFile}: squid_conf_path: set squid_conf or squid_conf_path, not both`);
  });

  it('should name a squid_conf_path that does not exist', async () => {
    await trustRepository();
    await write(projectFile, 'squid_conf_path = "missing.conf"\n');
    expect((await failure()).message).toBe(`${projectFile}: squid_conf_path: file not found: ${join(repo, '.tsk', 'missing.conf')}`);
  });

  it('should name a CA certificate that does not exist, even one a higher level overrides', async () => {
    await write(userFile, '[defaults]\nca_certificates = ["/nonexistent/corp.pem"]\n');
    expect((await failure()).message).toBe(`${userFile}: defaults.ca_certificates[0]: file not found: /nonexistent/corp.pem`);
  });

  it('should name a CA file that holds no PEM certificate', async () => {
    const der = await write(join(root, 'corp.der'), 'binary');
    await write(userFile, `[project.repo]\nca_certificates = ["${der}"]\n`);
    expect((await failure()).message).toBe(
      `${userFile}: project.repo.ca_certificates[0]: ${der} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`,
    );
  });

  it('should reject a directory given as a file', async () => {
    await trustRepository();
    await write(projectFile, `ca_certificates = ["${repo}"]\n`);
    expect((await failure()).message).toBe(`${projectFile}: ca_certificates[0]: not a file: ${repo}`);
  });

  it('should reject a wrong type in user-only keys', async () => {
    await write(userFile, '[server]\nworkers = 0\n[redis]\nurl = "http://x"\n');
    expect((await failure()).message).toBe(`${userFile}: server.workers: expected a whole number of 1 or more, got 0`);
    await write(userFile, 'redis = "redis://x"\n');
    expect((await failure()).message).toBe(`${userFile}: redis: expected a table, got "redis://x"`);
    await write(userFile, 'container_engine = "dokcer"\n');
    expect((await failure()).message).toBe(`${userFile}: container_engine: expected "docker", got "dokcer"`);
  });

  it('should name an invalid environment variable without echoing a redis password', async () => {
    const error = await failure({ env: { ...env, TSK_REDIS_URL: 'http://:hunter2@x' } });
    expect(error.message).toBe('environment variable TSK_REDIS_URL: redis.url: expected a redis:// or rediss:// URL');
  });

  it('should reject two [project.*] tables that name the same project', async () => {
    await write(userFile, '[project.Repo]\ncpu = 1\n[project.repo]\ncpu = 2\n');
    expect((await failure()).message).toBe(`${userFile}: project.Repo and project.repo both configure project "repo"; keep one`);
  });

  it('should reject bad command-line values with an InputError naming the flag', async () => {
    const agent = await failure({ cli: { agent: 'gpt' } });
    expect(agent).toBeInstanceOf(InputError);
    expect(agent.message).toBe('--agent: unknown agent "gpt"; expected one of claude, codex, no-op, script');
    expect((await failure({ cli: { stack: 'Rust!' } })).message).toBe('--stack: expected a stack name of [a-z0-9._-] characters, got "Rust!"');
  });
});
