import { DEFAULT_AGENT_API_ENDPOINTS } from '../agent-api/endpoints.js';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { workerPolicyFixture } from '../test-utils/task-spec-fixture.js';
import { loadConfig } from './load-config.js';
import { writeText as write } from '../test-utils/write-text.js';

// A throwaway home, config dir and repository per test: never the real ~/.config.
let root: string;
let env: NodeJS.ProcessEnv;
let repo: string;
let userFile: string;
let projectFile: string;


beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'tsk-config-'));
  repo = join(root, 'My Repo');
  await mkdir(repo);
  await mkdir(join(root, 'home'));
  userFile = join(root, 'config', 'tsk', 'tsk.toml');
  projectFile = join(repo, '.tsk', 'tsk.toml');
  env = { HOME: join(root, 'home'), TSK_CONFIG_HOME: join(root, 'config'), TSK_DATA_HOME: join(root, 'data'), TSK_RUNTIME_DIR: join(root, 'run') };
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('loadConfig', () => {
  it('should pick the shared remote: TSK_REMOTE_URL, then [project], then a trusted repository, then [defaults], then [remote] url', async () => {
    const remoteOf = async (extraEnv: NodeJS.ProcessEnv = {}) => (await loadConfig({ repoPath: repo, env: { ...env, ...extraEnv } })).remote;
    expect(await remoteOf()).toBeUndefined();
    await write(userFile, '[remote]\nurl = "git@git.example.com:team/base.git"\n');
    expect(await remoteOf()).toBe('git@git.example.com:team/base.git');
    await write(userFile, '[remote]\nurl = "git@git.example.com:team/base.git"\n[defaults]\nremote = "/srv/git/defaults.git"\n');
    expect(await remoteOf()).toBe('/srv/git/defaults.git');
    // A repository's own suggestion is a place its snapshots would go: refused until the user trusts it.
    await write(projectFile, 'remote = "https://evil.example.com/collect.git"\n');
    await expect(remoteOf()).rejects.toThrow(/remote "https:\/\/evil.example.com\/collect.git": keys that reach this machine are refused/);
    await write(userFile, `trusted_repositories = [${JSON.stringify(repo)}]\n[defaults]\nremote = "/srv/git/defaults.git"\n[project.my-repo]\npush_branches = true\n`);
    expect(await remoteOf()).toBe('https://evil.example.com/collect.git');
    await write(userFile, `trusted_repositories = [${JSON.stringify(repo)}]\n[project.my-repo]\nremote = "ssh://git@git.example.com/team/app.git"\npush_branches = true\n`);
    expect(await remoteOf()).toBe('ssh://git@git.example.com/team/app.git');
    expect((await loadConfig({ repoPath: repo, env })).task.pushBranches).toBe(true);
    expect(await remoteOf({ TSK_REMOTE_URL: 'file:///srv/override.git' })).toBe('file:///srv/override.git');
    expect(await remoteOf({ TSK_REMOTE_URL: '' })).toBe('ssh://git@git.example.com/team/app.git');
  });

  it('should refuse a remote that would run a command or carry a token, without echoing it', async () => {
    await write(userFile, '[defaults]\nremote = "ext::sh -c touch% /tmp/x"\n');
    await expect(loadConfig({ repoPath: repo, env })).rejects.toThrow(/defaults.remote: expected a git remote URL .* remote-helper transport/);
    await write(userFile, '[defaults]\nremote = "https://bob:ghp_secret@git.example.com/app.git"\n');
    const message = await loadConfig({ repoPath: repo, env }).then(
      () => 'no error',
      (caught: unknown) => (caught as Error).message,
    );
    expect(message).toMatch(/holds credentials/);
    expect(message).not.toContain('ghp_secret');
  });

  it('should resolve built-in defaults when there are no files', async () => {
    const config = await loadConfig({ repoPath: repo, env });
    expect(config.project).toBe('my-repo');
    expect(config.task).toEqual({
      agent: 'claude',
      stack: undefined,
      memoryGb: 12,
      cpu: 8,
      setup: undefined,
      stackConfig: {},
      agentConfig: {},
      hostPorts: [],
      env: [],
      envFromWorker: [],
      volumes: [],
      devices: [],
      squidConf: undefined,
      gitTown: false,
      pushBranches: false,
      caCertificates: [],
      baseImage: 'debian:trixie-slim',
      networkIsolation: true,
    });
    expect(config.machine).toEqual({
      containerEngine: 'docker',
      redisUrl: undefined,
      remoteUrl: undefined,
      server: { workers: 1, autoCleanAgeDays: 7, startIntervalMs: 2000 },
      proxy: { idleTimeoutMs: 120_000 },
      dashboard: { host: '127.0.0.1', port: 7777, tokenFile: undefined, hosts: [], repositories: {} },
      agentApi: DEFAULT_AGENT_API_ENDPOINTS,
      worker: workerPolicyFixture(),
      baseImage: 'debian:trixie-slim',
      userFile,
      configDir: join(root, 'config', 'tsk'),
      dataDir: join(root, 'data', 'tsk'),
      runtimeDir: join(root, 'run', 'tsk'),
    });
  });

  it('should read the [worker] policy, expanding ~ in its paths', async () => {
    const key = `ed25519:${'B'.repeat(43)}=`;
    await write(
      userFile,
      [
        '[worker]',
        `trusted_keys = [{ name = "bob", key = "${key}" }]`,
        'trusted_keys_file = "~/keys"',
        'allow_squid_conf = true',
        'host_ports = [5432]',
        'base_images = ["debian:trixie-slim"]',
        'max_memory_gb = 4',
        'repositories = ["~/src/", "/srv/repos"]',
        'share_env = ["NPM_TOKEN"]',
        'team_credentials = { claude = "~/team/anthropic-key" }',
      ].join('\n'),
    );
    const { machine } = await loadConfig({ repoPath: repo, env });
    expect(machine.worker).toEqual(
      workerPolicyFixture({
        trustedKeys: [{ name: 'bob', key }],
        trustedKeysFile: join(root, 'home', 'keys'),
        allowSquidConf: true,
        hostPorts: [5432],
        baseImages: ['debian:trixie-slim'],
        maxMemoryGb: 4,
        repositories: [join(root, 'home', 'src'), '/srv/repos'],
        shareEnv: ['NPM_TOKEN'],
        teamCredentials: { claude: join(root, 'home', 'team', 'anthropic-key') },
      }),
    );
    await write(userFile, '[worker]\nrepositories = ["src"]\n');
    await expect(loadConfig({ repoPath: repo, env })).rejects.toThrow(`${userFile}: worker.repositories[0]: expected an absolute path (or ~/...), got "src"`);
    await write(userFile, '[worker]\ntrusted_keys = [{ name = "bob", key = "ssh-rsa AAAA" }]\n');
    await expect(loadConfig({ repoPath: repo, env })).rejects.toThrow('worker.trusted_keys[0].key: expected a public key as `tsk key show` prints it');
  });

  it('should read [worker] labels, refusing anything but short plain labels', async () => {
    await write(userFile, '[worker]\nlabels = ["gpu", "cuda12.4"]\n');
    expect((await loadConfig({ repoPath: repo, env })).machine.worker.labels).toEqual(['gpu', 'cuda12.4']);
    await write(userFile, '[worker]\nlabels = ["GPU"]\n');
    await expect(loadConfig({ repoPath: repo, env })).rejects.toThrow(`${userFile}: worker.labels: expected labels of a-z 0-9 . _ -: "GPU" is not a label`);
    await write(userFile, '[worker]\nlabels = "gpu"\n');
    await expect(loadConfig({ repoPath: repo, env })).rejects.toThrow('worker.labels: expected a list of labels such as ["gpu"], got "gpu"');
  });

  it('should read [dashboard], expanding ~ in its paths and refusing a relative repository or a bad name', async () => {
    await write(
      userFile,
      ['[dashboard]', 'host = "0.0.0.0"', 'port = 8080', 'token_file = "~/dashboard-token"', 'hosts = ["TSK.example.internal"]', 'repositories = { app = "~/src/app", "web-v2" = "/srv/web" }'].join('\n'),
    );
    expect((await loadConfig({ repoPath: repo, env })).machine.dashboard).toEqual({
      host: '0.0.0.0',
      port: 8080,
      tokenFile: join(root, 'home', 'dashboard-token'),
      hosts: ['tsk.example.internal'],
      repositories: { app: join(root, 'home', 'src', 'app'), 'web-v2': '/srv/web' },
    });
    await write(userFile, '[dashboard]\nrepositories = { app = "src/app" }\n');
    await expect(loadConfig({ repoPath: repo, env })).rejects.toThrow(`${userFile}: dashboard.repositories.app: expected an absolute path (or ~/...), got "src/app"`);
    await write(userFile, '[dashboard]\nrepositories = { "../x" = "/srv/x" }\n');
    await expect(loadConfig({ repoPath: repo, env })).rejects.toThrow('dashboard.repositories');
    await write(userFile, '[dashboard]\nport = 0\n');
    await expect(loadConfig({ repoPath: repo, env })).rejects.toThrow(`${userFile}: dashboard.port: expected a port number from 1 to 65535, got 0`);
    await write(userFile, '[dashboard]\nhosts = ["evil host/"]\n');
    await expect(loadConfig({ repoPath: repo, env })).rejects.toThrow('dashboard.hosts[0]: expected a host name');
  });

  describe('levels', () => {
    // Every level sets `stack`; each case removes the levels above the one expected to win.
    async function stackWith(levels: { cli?: boolean; userProject?: boolean; projectFile?: boolean; userDefaults?: boolean; detected?: boolean }): Promise<string | undefined> {
      const user = [
        levels.userDefaults ? '[defaults]\nstack = "user-defaults"' : '',
        levels.userProject ? '[project.my-repo]\nstack = "user-project"' : '',
      ].join('\n');
      await write(userFile, user);
      await rm(projectFile, { force: true });
      if (levels.projectFile) await write(projectFile, 'stack = "project-file"\n');
      const config = await loadConfig({
        repoPath: repo,
        env,
        cli: levels.cli ? { stack: 'cli' } : {},
        detectedStack: levels.detected ? 'detected' : undefined,
      });
      return config.task.stack;
    }

    it('should give every level its priority: CLI > user project > project file > user defaults > detected > built-in', async () => {
      const all = { cli: true, userProject: true, projectFile: true, userDefaults: true, detected: true };
      expect(await stackWith(all)).toBe('cli');
      expect(await stackWith({ ...all, cli: false })).toBe('user-project');
      expect(await stackWith({ ...all, cli: false, userProject: false })).toBe('project-file');
      expect(await stackWith({ detected: true, userDefaults: true })).toBe('user-defaults');
      expect(await stackWith({ detected: true })).toBe('detected');
      expect(await stackWith({})).toBeUndefined();
    });

    it('should let CLI flags override every file', async () => {
      await write(userFile, '[defaults]\nagent = "codex"\n[project.my-repo]\nagent = "no-op"\n');
      await write(projectFile, 'agent = "script"\n');
      const config = await loadConfig({ repoPath: repo, env, cli: { agent: 'claude', networkIsolation: false } });
      expect(config.task.agent).toBe('claude');
      expect(config.task.networkIsolation).toBe(false);
    });

    it('should take each scalar from the highest level that sets it', async () => {
      await write(userFile, '[defaults]\nmemory_gb = 4\ncpu = 2\ngit_town = true\n[project.my-repo]\ncpu = 3\n');
      await write(projectFile, 'memory_gb = 6.5\nsetup = "RUN make deps"\n');
      const { task } = await loadConfig({ repoPath: repo, env });
      expect(task).toMatchObject({ memoryGb: 6.5, cpu: 3, gitTown: true, setup: 'RUN make deps' });
    });

    it('should combine lists from every file, the higher level winning conflicts', async () => {
      await write(
        userFile,
        [
          // The project file below mounts a host path and passes a device: the user trusts this repository.
          `trusted_repositories = [${JSON.stringify(repo)}]`,
          '[defaults]',
          'host_ports = [5432]',
          'devices = ["/dev/fuse"]',
          'env = [{ name = "MODE", value = "defaults" }, { name = "A", value = "a" }]',
          'volumes = [{ name = "cache", container = "/cache" }]',
          '[project.my-repo]',
          'env = [{ name = "MODE", value = "user-project" }]',
          'host_ports = [5432, 6379]',
        ].join('\n'),
      );
      await write(projectFile, 'env = [{ name = "MODE", value = "project-file" }, { name = "B", value = "b" }]\nvolumes = [{ host = "/srv/cache", container = "/cache", readonly = true }]\ndevices = ["/dev/kvm"]\n');
      const { task } = await loadConfig({ repoPath: repo, env });
      expect(task.env).toEqual([
        { name: 'MODE', value: 'user-project' },
        { name: 'A', value: 'a' },
        { name: 'B', value: 'b' },
      ]);
      expect(task.hostPorts).toEqual([5432, 6379]);
      expect(task.devices).toEqual(['/dev/fuse', '/dev/kvm']);
      expect(task.volumes).toEqual([{ kind: 'bind', host: '/srv/cache', container: '/cache', readonly: true }]);
    });

    it('should merge stack_config and agent_config per name across files', async () => {
      await write(userFile, '[defaults.stack_config.rust]\nsetup = "RUN user-rust"\n[defaults.stack_config.go]\nsetup = "RUN user-go"\n[defaults.agent_config.claude]\nsetup = "RUN claude"\n');
      await write(projectFile, '[stack_config.rust]\nsetup = "RUN project-rust"\n');
      const { task } = await loadConfig({ repoPath: repo, env });
      expect(task.stackConfig).toEqual({ rust: { setup: 'RUN project-rust' }, go: { setup: 'RUN user-go' } });
      expect(task.agentConfig).toEqual({ claude: { setup: 'RUN claude' } });
    });

    it('should apply the [project.<name>] table of the named project only', async () => {
      await write(userFile, '[project.other]\nmemory_gb = 1\n[project.my-repo]\nmemory_gb = 2\n');
      expect((await loadConfig({ repoPath: repo, env })).task.memoryGb).toBe(2);
      const other = await loadConfig({ repoPath: repo, project: 'other', env });
      expect(other.project).toBe('other');
      expect(other.task.memoryGb).toBe(1);
    });

    it('should match [project.<name>] tables by sanitised name', async () => {
      await write(userFile, '[project."My Repo"]\ncpu = 5\n');
      expect((await loadConfig({ repoPath: repo, env })).task.cpu).toBe(5);
    });
  });

  describe('paths and volumes', () => {
    it('should expand ~ in host volumes and prefix named volumes with tsk-', async () => {
      await write(
        userFile,
        '[defaults]\nvolumes = [{ host = "~/.cache/go", container = "/go/pkg/mod" }, { host = "~", container = "/h", readonly = true }, { name = "go-build", container = "/b" }, { name = "tsk-kept", container = "/k" }]\n',
      );
      const { task } = await loadConfig({ repoPath: repo, env });
      expect(task.volumes).toEqual([
        { kind: 'bind', host: join(root, 'home', '.cache', 'go'), container: '/go/pkg/mod', readonly: false },
        { kind: 'bind', host: join(root, 'home'), container: '/h', readonly: true },
        { kind: 'named', name: 'tsk-go-build', container: '/b', readonly: false },
        { kind: 'named', name: 'tsk-kept', container: '/k', readonly: false },
      ]);
    });

    it('should resolve relative ca_certificates against the file that set them, combine them and hold their text', async () => {
      const pem = (name: string) => `-----BEGIN CERTIFICATE-----\n${name}\n-----END CERTIFICATE-----\n`;
      await write(join(root, 'config', 'tsk', 'corp.pem'), pem('user'));
      await write(join(repo, '.tsk', 'certs', 'internal.pem'), pem('project'));
      await write(join(root, 'home', 'home.pem'), pem('home'));
      await write(userFile, `trusted_repositories = [${JSON.stringify(repo)}]\n[defaults]\nca_certificates = ["corp.pem", "~/home.pem"]\n`);
      await write(projectFile, 'ca_certificates = ["certs/internal.pem"]\n');
      const { task } = await loadConfig({ repoPath: repo, env });
      expect(task.caCertificates).toEqual([
        { path: join(root, 'config', 'tsk', 'corp.pem'), content: pem('user') },
        { path: join(root, 'home', 'home.pem'), content: pem('home') },
        { path: join(repo, '.tsk', 'certs', 'internal.pem'), content: pem('project') },
      ]);
    });

    it('should hold the text of squid_conf_path, resolved against its file', async () => {
      await write(join(repo, '.tsk', 'squid.conf'), 'http_access allow all\n');
      await write(projectFile, 'squid_conf_path = "squid.conf"\n');
      await write(userFile, `trusted_repositories = [${JSON.stringify(repo)}]\n`);
      expect((await loadConfig({ repoPath: repo, env })).task.squidConf).toBe('http_access allow all\n');
    });

    it('should let an inline squid_conf at a higher level beat a lower squid_conf_path', async () => {
      await write(join(root, 'squid.conf'), 'from file');
      await write(userFile, `[defaults]\nsquid_conf_path = "${join(root, 'squid.conf')}"\n[project.my-repo]\nsquid_conf = "inline"\n`);
      expect((await loadConfig({ repoPath: repo, env })).task.squidConf).toBe('inline');
    });
  });

  describe('machine settings and environment', () => {
    it('should read user-only keys from the user file', async () => {
      await write(
        userFile,
        [
          'container_engine = "docker"',
          'base_image = "ubuntu:24.04"',
          '[redis]\nurl = "redis://queue:6379"',
          '[remote]\nurl = "git@example.com:team/shared.git"',
          '[server]\nworkers = 4\nauto_clean_age_days = 2.5',
          '[proxy]\nidle_timeout = "10m"',
          '[worker]\nallow_bind_mounts = true\nrequeue_lost = true',
        ].join('\n'),
      );
      const config = await loadConfig({ env });
      expect(config.task.baseImage).toBe('ubuntu:24.04');
      expect(config.machine).toMatchObject({
        redisUrl: 'redis://queue:6379',
        remoteUrl: 'git@example.com:team/shared.git',
        server: { workers: 4, autoCleanAgeDays: 2.5, startIntervalMs: 2000 },
        proxy: { idleTimeoutMs: 600_000 },
        worker: { allowBindMounts: true, allowDevices: false, allowPrivileged: false, allowNoNetworkIsolation: false, requeueLost: true },
      });
      expect(config.project).toBe('');
    });

    it('should let TSK_REDIS_URL, TSK_BASE_IMAGE and TSK_REMOTE_URL override the user file', async () => {
      await write(userFile, 'base_image = "ubuntu:24.04"\n[redis]\nurl = "redis://file:6379"\n');
      const config = await loadConfig({
        env: { ...env, TSK_REDIS_URL: 'rediss://:secret@env:6380', TSK_BASE_IMAGE: 'debian:trixie-slim', TSK_REMOTE_URL: '/srv/git/shared.git' },
      });
      expect(config.machine.redisUrl).toBe('rediss://:secret@env:6380');
      expect(config.machine.remoteUrl).toBe('/srv/git/shared.git');
      expect(config.task.baseImage).toBe('debian:trixie-slim');
    });

    it('should treat an empty environment variable as unset', async () => {
      await write(userFile, '[redis]\nurl = "redis://file:6379"\n');
      expect((await loadConfig({ env: { ...env, TSK_REDIS_URL: '' } })).machine.redisUrl).toBe('redis://file:6379');
    });

    it('should fall back to XDG_CONFIG_HOME and then ~/.config for the user file', async () => {
      const xdgEnv = { HOME: join(root, 'home'), XDG_CONFIG_HOME: join(root, 'xdg') };
      await write(join(root, 'xdg', 'tsk', 'tsk.toml'), '[defaults]\ncpu = 3\n');
      await write(join(root, 'home', '.config', 'tsk', 'tsk.toml'), '[defaults]\ncpu = 5\n');
      const viaXdg = await loadConfig({ env: xdgEnv });
      expect(viaXdg.task.cpu).toBe(3);
      expect(viaXdg.machine.configDir).toBe(join(root, 'xdg', 'tsk'));
      const viaHome = await loadConfig({ env: { HOME: join(root, 'home') } });
      expect(viaHome.task.cpu).toBe(5);
      expect(viaHome.machine).toMatchObject({
        configDir: join(root, 'home', '.config', 'tsk'),
        dataDir: join(root, 'home', '.local', 'share', 'tsk'),
      });
    });

    it('should prefer TSK_CONFIG_HOME over XDG_CONFIG_HOME', async () => {
      await write(userFile, '[defaults]\ncpu = 2\n');
      await write(join(root, 'xdg', 'tsk', 'tsk.toml'), '[defaults]\ncpu = 3\n');
      expect((await loadConfig({ env: { ...env, XDG_CONFIG_HOME: join(root, 'xdg') } })).task.cpu).toBe(2);
    });
  });
});
