import { mkdir, mkdtemp, realpath, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../errors/index.js';
import { loadConfig, type LoadConfigOptions } from './load-config.js';
import { writeText as write } from '../test-utils/write-text.js';

// A throwaway home, config dir and repositories per test: never the real ~/.config.
let root: string;
let home: string;
let env: NodeJS.ProcessEnv;
let repo: string;
let userFile: string;
let projectFile: string;


const pem = '-----BEGIN CERTIFICATE-----\nca\n-----END CERTIFICATE-----\n';

beforeEach(async () => {
  // Real path: the message names the repository's real path, and tmpdir() may be a symlink (macOS).
  root = await realpath(await mkdtemp(join(tmpdir(), 'tsk-trust-')));
  home = join(root, 'home');
  repo = join(home, 'src', 'app');
  await mkdir(repo, { recursive: true });
  userFile = join(root, 'config', 'tsk', 'tsk.toml');
  projectFile = join(repo, '.tsk', 'tsk.toml');
  env = { HOME: home, TSK_CONFIG_HOME: join(root, 'config') };
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

function trusting(...paths: string[]): string {
  return `trusted_repositories = [${paths.map((path) => JSON.stringify(path)).join(', ')}]\n`;
}

/** The ConfigError loadConfig throws, checked to be one line. */
async function refusal(options: LoadConfigOptions = {}): Promise<ConfigError> {
  const error: unknown = await loadConfig({ repoPath: repo, env, ...options }).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof ConfigError)) throw new Error(`expected a ConfigError, got ${String(error)}`);
  expect(error.userMessage).not.toContain('\n');
  return error;
}

const hostMount = 'volumes = [{ host = "/", container = "/host" }]\n';
const mounted = [{ kind: 'bind', host: '/', container: '/host', readonly: false }];
const REFUSED = 'keys that reach this machine are refused from a repository you have not trusted';
const howToTrust = (path: string): string => `if you trust it, add "${path}" to trusted_repositories at the top level of ${userFile}`;

describe("a repository's own .tsk/tsk.toml", () => {
  describe('without opt-in', () => {
    it('should refuse a host bind mount, naming the file, every entry that reaches this machine and how to opt in', async () => {
      await write(
        projectFile,
        [
          'volumes = [{ name = "cache", container = "/cache" }, { host = "/", container = "/host" }]',
          'host_ports = [22, 5432]',
          'devices = ["/dev/kvm"]',
          'squid_conf = "http_access allow all"',
          'ca_certificates = ["certs/ca.pem"]',
          '',
        ].join('\n'),
      );
      const error = await refusal();
      expect(error.message).toBe(
        `${projectFile}: volumes[1].host "/", host_ports[0] 22, host_ports[1] 5432, devices[0] "/dev/kvm", squid_conf, ca_certificates[0] "certs/ca.pem": ${REFUSED}`,
      );
      expect(error.hint).toBe(howToTrust(repo));
      expect(error.userMessage).toBe(`${error.message} (${howToTrust(repo)})`);
    });

    it.each([
      ['volumes = [{ host = "~/.ssh", container = "/ssh", readonly = true }]', 'volumes[0].host "~/.ssh"'],
      ['devices = ["/dev/sda"]', 'devices[0] "/dev/sda"'],
      ['host_ports = [6379]', 'host_ports[0] 6379'],
      ['squid_conf = "http_access allow all"', 'squid_conf'],
      ['squid_conf_path = "/etc/squid/open.conf"', 'squid_conf_path "/etc/squid/open.conf"'],
      ['ca_certificates = ["/etc/ssl/certs/ca-certificates.crt"]', 'ca_certificates[0] "/etc/ssl/certs/ca-certificates.crt"'],
      // Budgets and the model spend the credential of whoever runs the task: a repository must not raise them.
      ['max_cost_usd = 1000', 'max_cost_usd 1000'],
      ['timeout = "30d"', 'timeout "30d"'],
      ['max_turns = 99999', 'max_turns 99999'],
      ['model = "claude-opus-4-1"', 'model "claude-opus-4-1"'],
    ])('should refuse %s', async (line, entry) => {
      await write(projectFile, `agent = "no-op"\n${line}\n`);
      expect((await refusal()).message).toBe(`${projectFile}: ${entry}: ${REFUSED}`);
    });

    it('should refuse before reading any file the project file names', async () => {
      // Without the check first, these would be read (or reported missing) from the host's disk.
      await write(projectFile, 'squid_conf_path = "/nonexistent/squid.conf"\n');
      expect((await refusal()).message).toBe(`${projectFile}: squid_conf_path "/nonexistent/squid.conf": ${REFUSED}`);
      await write(projectFile, 'ca_certificates = ["/nonexistent/ca.pem"]\n');
      expect((await refusal()).message).toBe(`${projectFile}: ca_certificates[0] "/nonexistent/ca.pem": ${REFUSED}`);
    });

    it('should escape what the hostile file wrote, so it cannot draw on the terminal', async () => {
      await write(projectFile, 'devices = ["/dev/\\u001b[2Jx"]\n');
      expect((await refusal()).message).toBe(`${projectFile}: devices[0] "/dev/\\u001b[2Jx": ${REFUSED}`);
    });

    it('should keep everything that stays in the sandbox working', async () => {
      await write(
        projectFile,
        [
          'agent = "no-op"',
          'stack = "node"',
          'memory_gb = 2',
          'cpu = 1',
          'setup = "RUN true"',
          'git_town = true',
          'host_ports = []',
          'env = [{ name = "MODE", value = "project" }]',
          'volumes = [{ name = "npm-cache", container = "/home/agent/.npm" }]',
          '[stack_config.node]',
          'setup = "RUN node --version"',
          '[agent_config.no-op]',
          'setup = "RUN true"',
          '',
        ].join('\n'),
      );
      const { task } = await loadConfig({ repoPath: repo, env });
      expect(task).toMatchObject({
        agent: 'no-op',
        stack: 'node',
        memoryGb: 2,
        cpu: 1,
        setup: 'RUN true',
        gitTown: true,
        hostPorts: [],
        env: [{ name: 'MODE', value: 'project' }],
        volumes: [{ kind: 'named', name: 'tsk-npm-cache', container: '/home/agent/.npm', readonly: false }],
        stackConfig: { node: { setup: 'RUN node --version' } },
        agentConfig: { 'no-op': { setup: 'RUN true' } },
      });
    });
  });

  describe('with opt-in', () => {
    it('should accept the host-reaching keys of a repository listed by its absolute path', async () => {
      await write(join(repo, '.tsk', 'ca.pem'), pem);
      await write(join(repo, '.tsk', 'squid.conf'), 'http_access allow all\n');
      await write(projectFile, `${hostMount}devices = ["/dev/fuse"]\nhost_ports = [5432]\nsquid_conf_path = "squid.conf"\nca_certificates = ["ca.pem"]\n`);
      await write(userFile, trusting('/srv/other', repo));
      const { task } = await loadConfig({ repoPath: repo, env });
      expect(task).toMatchObject({ volumes: mounted, devices: ['/dev/fuse'], hostPorts: [5432], squidConf: 'http_access allow all\n' });
      expect(task.caCertificates).toEqual([{ path: join(repo, '.tsk', 'ca.pem'), content: pem }]);
    });

    it('should expand ~ in trusted_repositories', async () => {
      await write(projectFile, hostMount);
      await write(userFile, trusting('~/src/app'));
      expect((await loadConfig({ repoPath: repo, env })).task.volumes).toEqual(mounted);
    });

    it('should compare real paths: a symlink in the list, or a repository reached through one', async () => {
      await write(projectFile, hostMount);
      const link = join(root, 'link-to-app');
      await symlink(repo, link);
      await write(userFile, trusting(link));
      expect((await loadConfig({ repoPath: repo, env })).task.volumes).toEqual(mounted);
      await write(userFile, trusting(`${repo}/`));
      expect((await loadConfig({ repoPath: link, env })).task.volumes).toEqual(mounted);
    });

    it('should trust a linked worktree through its main work tree only', async () => {
      const worktree = join(root, 'app-feature');
      await write(join(worktree, '.tsk', 'tsk.toml'), hostMount);
      await write(userFile, trusting(repo));
      const viaMain = await loadConfig({ repoPath: worktree, mainWorkdir: repo, env });
      expect(viaMain.task.volumes).toEqual(mounted);
      // Listing the worktree itself does not count: the message names the path that does.
      await write(userFile, trusting(worktree));
      const error = await refusal({ repoPath: worktree, mainWorkdir: repo });
      expect(error.message).toBe(`${join(worktree, '.tsk', 'tsk.toml')}: volumes[0].host "/": ${REFUSED}`);
      expect(error.hint).toBe(howToTrust(repo));
    });

    it('should not trust by project name, by a parent folder or by another repository', async () => {
      // A hostile clone elsewhere with the same directory name has the same project name.
      const clone = join(root, 'downloads', 'app');
      await write(join(clone, '.tsk', 'tsk.toml'), hostMount);
      await write(userFile, `${trusting(repo, join(root, 'downloads'), '~')}[project.app]\ncpu = 2\n`);
      const error = await refusal({ repoPath: clone });
      expect(error.message).toBe(`${join(clone, '.tsk', 'tsk.toml')}: volumes[0].host "/": ${REFUSED}`);
      expect(error.hint).toBe(howToTrust(clone));
    });

    it('should ignore listed repositories that do not exist', async () => {
      await write(projectFile, hostMount);
      await write(userFile, trusting('/nonexistent/repo', '~/gone', repo));
      expect((await loadConfig({ repoPath: repo, env })).task.volumes).toEqual(mounted);
    });
  });

  describe('trusted_repositories itself', () => {
    it('should be refused in a project file, which cannot trust itself', async () => {
      await write(projectFile, `${trusting(repo)}${hostMount}`);
      expect((await refusal()).message).toBe(
        `${projectFile}: trusted_repositories: trusted_repositories is a user-only key; set it at the top level of ${userFile}`,
      );
    });

    it('should be refused in the shared tables of the user file', async () => {
      await write(userFile, `[project.app]\n${trusting(repo)}`);
      expect((await refusal()).message).toBe(
        `${userFile}: project.app.trusted_repositories: trusted_repositories is a user-only key; set it at the top level of ${userFile}`,
      );
    });

    it.each([
      ['trusted_repositories = ["src/app"]', 'trusted_repositories[0]: expected an absolute path (or ~/...), got "src/app"'],
      ['trusted_repositories = ["~app"]', 'trusted_repositories[0]: expected an absolute path (or ~/...), got "~app"'],
      ['trusted_repositories = [""]', 'trusted_repositories[0]: expected an absolute path (or ~/...), got ""'],
      ['trusted_repositories = "/srv/app"', 'trusted_repositories: expected a list of absolute paths, got "/srv/app"'],
    ])('should refuse %s', async (line, detail) => {
      await write(userFile, `${line}\n`);
      expect((await refusal()).message).toBe(`${userFile}: ${detail}`);
    });
  });

  it("should not affect the same keys in the user's own [defaults] and [project.<name>]", async () => {
    await write(join(home, 'ca.pem'), pem);
    await write(join(home, 'squid.conf'), 'http_access deny all\n');
    await write(projectFile, 'agent = "no-op"\n');
    await write(
      userFile,
      [
        '[defaults]',
        'volumes = [{ host = "/", container = "/host" }]',
        'devices = ["/dev/fuse"]',
        'ca_certificates = ["~/ca.pem"]',
        '[project.app]',
        'host_ports = [5432]',
        'squid_conf_path = "~/squid.conf"',
        '',
      ].join('\n'),
    );
    const { task } = await loadConfig({ repoPath: repo, env });
    expect(task).toMatchObject({
      agent: 'no-op',
      volumes: mounted,
      devices: ['/dev/fuse'],
      hostPorts: [5432],
      squidConf: 'http_access deny all\n',
      caCertificates: [{ path: join(home, 'ca.pem'), content: pem }],
    });
  });
});
