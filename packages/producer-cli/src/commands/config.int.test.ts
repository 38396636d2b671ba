import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_BASE_IMAGE } from '@tsk/engine';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { git } from '../test-utils/repo-state.js';
import { makeTskHome, runTsk, startTsk, type TskHome } from '../test-utils/run-tsk.js';
import { containersOf, makeSimpleRepo, writeFiles } from '../test-utils/simple-repo.js';

const BASE_IMAGE = process.env.TSK_BASE_IMAGE ?? DEFAULT_BASE_IMAGE;

function docker(...args: string[]): string {
  return execFileSync('docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

/** Checks SPEC §2's error contract: one `Error:` line on stderr, exit 1, no stack trace. */
function expectOneLineError(result: { exitCode: number | null; stderr: string }, message: string | RegExp): void {
  expect(result.exitCode).toBe(1);
  expect(result.stderr.trim().split('\n'), result.stderr).toHaveLength(1);
  if (typeof message === 'string') expect(result.stderr).toBe(`Error: ${message}\n`);
  else expect(result.stderr).toMatch(message);
}

describe('configuration errors through the built CLI', () => {
  let home: TskHome;
  let repo: string;
  let userFile: string;
  let projectFile: string;

  beforeAll(async () => {
    home = await makeTskHome();
    repo = makeSimpleRepo(join(home.dir, 'errors-repo'));
    userFile = join(home.env.TSK_CONFIG_HOME!, 'tsk', 'tsk.toml');
    projectFile = join(repo, '.tsk', 'tsk.toml');
    mkdirSync(join(home.env.TSK_CONFIG_HOME!, 'tsk'), { recursive: true });
    mkdirSync(join(repo, '.tsk'), { recursive: true });
  });

  afterAll(async () => {
    await home.cleanup();
  });

  /** Both commands that resolve configuration must refuse it the same way, creating nothing. */
  async function expectRejected(files: { user?: string; project?: string }, message: () => string | RegExp): Promise<void> {
    writeFileSync(userFile, files.user ?? '');
    writeFileSync(projectFile, files.project ?? '');
    for (const args of [['docker', 'build', '--dry-run', '--repo', repo], ['run', '--repo', repo, '--agent', 'no-op', '-p', 'x']]) {
      expectOneLineError(await runTsk(args, { env: home.env }), message());
    }
    expect(git(repo, 'for-each-ref', 'refs/tsk/')).toBe('');
  }

  it('should name the file and line of malformed TOML', async () => {
    await expectRejected({ user: '[defaults]\nmemory_gb = 4\ncpu = = 2\n' }, () => new RegExp(`^Error: ${userFile}:3: invalid TOML: `));
    await expectRejected({ project: 'agent = "script"\n\n[stack_config.node\nsetup = "x"\n' }, () => new RegExp(`^Error: ${projectFile}:3: invalid TOML: `));
  });

  it('should name the file and the key of an unknown key, suggesting the likely one', async () => {
    await expectRejected(
      { user: '[defaults]\nmemroy_gb = 4\n' },
      () => `${userFile}: defaults.memroy_gb: unknown key (did you mean memory_gb?); valid keys: agent, stack, memory_gb, cpu, setup, stack_config, agent_config, host_ports, env, env_from_worker, volumes, devices, squid_conf, squid_conf_path, git_town, remote, push_branches, ca_certificates, max_cost_usd, timeout, max_turns, model`,
    );
    await expectRejected({ project: 'base_image = "alpine"\n' }, () => `${projectFile}: base_image: base_image is a user-only key; set it at the top level of ${userFile}`);
  });

  it('should name the file, the key and the expected type of a wrong value', async () => {
    await expectRejected({ user: '[project.errors-repo]\ncpu = "eight"\n' }, () => `${userFile}: project.errors-repo.cpu: expected a number greater than 0, got "eight"`);
    await expectRejected({ project: 'git_town = "yes"\n' }, () => `${projectFile}: git_town: expected true or false, got "yes"`);
    await expectRejected({ project: 'env = [{ name = "A", value = 1 }]\n' }, () => `${projectFile}: env[0].value: expected a string, got 1`);
    await expectRejected(
      { user: '[defaults]\nvolumes = [{ host = "relative/dir", container = "/x" }]\n' },
      () => `${userFile}: defaults.volumes[0].host: expected an absolute host path (or ~/...), got "relative/dir"`,
    );
  });

  it('should name a missing squid_conf_path or ca_certificates file', async () => {
    // The repository is trusted, so its own file may name files on this machine.
    const trusted = `trusted_repositories = [${JSON.stringify(repo)}]\n`;
    await expectRejected(
      { user: trusted, project: 'squid_conf_path = "squid.conf"\n' },
      () => `${projectFile}: squid_conf_path: file not found: ${join(repo, '.tsk', 'squid.conf')}`,
    );
    await expectRejected(
      { user: '[defaults]\nca_certificates = ["/nonexistent/corp.pem"]\n' },
      () => `${userFile}: defaults.ca_certificates[0]: file not found: /nonexistent/corp.pem`,
    );
    const notPem = join(home.dir, 'corp.der');
    writeFileSync(notPem, 'binary');
    await expectRejected(
      { user: trusted, project: `ca_certificates = ["${notPem}"]\n` },
      () => `${projectFile}: ca_certificates[0]: ${notPem} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`,
    );
  });

  it('should name an unknown stack and how to define it', async () => {
    await expectRejected({ project: 'stack = "elixir"\n' }, () => /^Error: Unknown stack "elixir"; known stacks: default, go, java, lua, node, python, rust \(pick one of those, or define it with \[stack_config\.elixir\] setup = /);
  });

  it('should name a project COPY source the repository does not have', async () => {
    await expectRejected({ project: 'setup = "COPY missing.txt /opt/"\n' }, () => /^Error: setup: COPY source "missing.txt" matches no file in /);
  });
});

/**
 * A cloned repository is hostile: its own `.tsk/tsk.toml` may not reach this machine (here: mount the
 * host's root) until the user lists the repository's path in `trusted_repositories`.
 */
describe("a repository's own configuration is not trusted by default", () => {
  let home: TskHome;
  let repo: string;
  let userFile: string;
  let projectFile: string;

  beforeAll(async () => {
    home = await makeTskHome();
    repo = realpathSync(makeSimpleRepo(join(home.dir, 'cloned-repo')));
    userFile = join(home.env.TSK_CONFIG_HOME!, 'tsk', 'tsk.toml');
    projectFile = join(repo, '.tsk', 'tsk.toml');
    writeFiles(repo, { '.tsk/tsk.toml': 'agent = "no-op"\nvolumes = [{ host = "/", container = "/host" }]\n' });
    git(repo, 'add', '-A');
    git(repo, 'commit', '-q', '-m', 'ask for the host');
  });

  afterAll(async () => {
    await home.cleanup();
  });

  const dryRun = (path: string) => runTsk(['docker', 'build', '--dry-run', '--repo', path], { env: home.env });
  const refusal = (file: string, trust: string) =>
    `${file}: volumes[0].host "/": keys that reach this machine are refused from a repository you have not trusted ` +
    `(if you trust it, add "${trust}" to trusted_repositories at the top level of ${userFile})`;

  it('should refuse a host mount from the project file, creating nothing, until the user trusts the repository', async () => {
    for (const args of [['docker', 'build', '--dry-run', '--repo', repo], ['run', '--repo', repo, '-p', 'x']]) {
      expectOneLineError(await runTsk(args, { env: home.env }), refusal(projectFile, repo));
    }
    expect(git(repo, 'for-each-ref', 'refs/tsk/')).toBe('');
    expect(existsSync(join(home.env.TSK_DATA_HOME!, 'tsk', 'tasks'))).toBe(false);

    // Trusting another repository with the same name (so the same project name) does not count.
    writeFiles(join(home.env.TSK_CONFIG_HOME!, 'tsk'), { 'tsk.toml': `trusted_repositories = ["${join(home.dir, 'elsewhere', 'cloned-repo')}"]\n` });
    expectOneLineError(await dryRun(repo), refusal(projectFile, repo));

    writeFiles(join(home.env.TSK_CONFIG_HOME!, 'tsk'), { 'tsk.toml': `trusted_repositories = ["${repo}"]\n` });
    const trusted = await dryRun(repo);
    expect(trusted.exitCode, trusted.stderr).toBe(0);
    expect(trusted.stdout).toMatch(/^# image tsk\/cloned-repo\/default\/no-op:[0-9a-f]{12}$/m);
  });

  it('should trust a linked worktree through its main work tree', async () => {
    const worktree = join(home.dir, 'cloned-feature');
    git(repo, 'worktree', 'add', '-q', '-b', 'feature', worktree);
    writeFiles(join(home.env.TSK_CONFIG_HOME!, 'tsk'), { 'tsk.toml': `trusted_repositories = ["${worktree}"]\n` });
    expectOneLineError(await dryRun(worktree), refusal(join(worktree, '.tsk', 'tsk.toml'), repo));
    writeFiles(join(home.env.TSK_CONFIG_HOME!, 'tsk'), { 'tsk.toml': `trusted_repositories = ["${repo}"]\n` });
    const trusted = await dryRun(worktree);
    expect(trusted.exitCode, trusted.stderr).toBe(0);
  });
});

describe('tsk docker build --dry-run', () => {
  let home: TskHome;
  let repo: string;

  beforeAll(async () => {
    home = await makeTskHome();
    repo = makeSimpleRepo(join(home.dir, 'dry-run-repo'), { 'package.json': '{}\n', 'tools/install.sh': 'echo installing\n' });
  });

  afterAll(async () => {
    await home.cleanup();
  });

  it('should print a header with each layer’s origin and the tag, then the composed Dockerfile', async () => {
    const plain = await runTsk(['docker', 'build', '--dry-run', '--repo', repo, '--agent', 'codex'], { env: home.env });
    expect(plain.exitCode, plain.stderr).toBe(0);
    const header = plain.stdout.split('\n\n')[0]!.split('\n');
    expect(header[0]).toMatch(/^# image tsk\/dry-run-repo\/node\/codex:[0-9a-f]{12}$/);
    expect(header.slice(1, 5)).toEqual([
      `# layer base: ${BASE_IMAGE} (built-in dockerfiles/base/default.dockerfile)`,
      '# layer stack: node (built-in dockerfiles/stack/node.dockerfile)',
      '# layer project: dry-run-repo (empty)',
      '# layer agent: codex (built-in dockerfiles/agent/codex.dockerfile)',
    ]);
    expect(plain.stdout).toContain(`FROM ${BASE_IMAGE}`);

    writeFiles(repo, {
      '.tsk/tsk.toml': [
        'stack = "elixir"',
        'setup = "COPY tools/install.sh /opt/\\nRUN sh /opt/install.sh"',
        '[stack_config.elixir]',
        'setup = "RUN apt-get update && apt-get install -y elixir"',
        '[agent_config.codex]',
        'setup = "RUN npm install -g @openai/codex@0.1.0"',
        '',
      ].join('\n'),
    });
    writeFiles(join(home.env.TSK_CONFIG_HOME!, 'tsk'), { 'tsk.toml': '[defaults]\nca_certificates = ["/etc/ssl/certs/ca-certificates.crt"]\n' });
    const configured = await runTsk(['docker', 'build', '--dry-run', '--repo', repo, '--agent', 'codex'], { env: home.env });
    expect(configured.exitCode, configured.stderr).toBe(0);
    const lines = configured.stdout.split('\n\n')[0]!.split('\n');
    expect(lines[0]).toMatch(/^# image tsk\/dry-run-repo\/elixir\/codex:[0-9a-f]{12}$/);
    expect(lines[0]).not.toBe(header[0]);
    expect(lines.slice(1)).toEqual([
      `# layer base: ${BASE_IMAGE} (built-in dockerfiles/base/default.dockerfile)`,
      `# layer stack: elixir (${join(repo, '.tsk', 'tsk.toml')}: stack_config.elixir.setup)`,
      `# layer project: dry-run-repo (${join(repo, '.tsk', 'tsk.toml')}: setup)`,
      `# layer agent: codex (${join(repo, '.tsk', 'tsk.toml')}: agent_config.codex.setup)`,
      expect.stringMatching(/^# build args: AGENT_UID=\d+ AGENT_GID=\d+$/),
      expect.stringMatching(/^# ca_certificates: \d+ certificate\(s\) trusted in the image$/),
      '# project files copied by setup: tools/install.sh',
      '# toolchain: whatever stack_config.elixir.setup installs',
    ]);
    expect(configured.stdout).toContain('RUN apt-get update && apt-get install -y elixir');
    expect(configured.stdout).toContain('RUN update-ca-certificates');
  });
});

/**
 * One task that checks every configuration key that reaches the sandbox, each set at a different level:
 * the project layer from `setup` (with a COPY of a project file), env merged over three levels, a named
 * volume and a read-only `~` bind mount, memory and CPU limits, and git_town. The configuration is changed
 * while the task is already created, to show the task keeps the configuration it was created with.
 */
describe('configuration reaching the task (real Docker)', () => {
  const runId = randomUUID().slice(0, 8);
  const volume = `tsk-test-config-${runId}`;
  let home: TskHome;
  let repo: string;
  let userFile: string;
  let builtTag: string | undefined;

  beforeAll(async () => {
    home = await makeTskHome();
    home.env.HOME = join(home.dir, 'home');
    userFile = join(home.env.TSK_CONFIG_HOME!, 'tsk', 'tsk.toml');
    writeFiles(home.env.HOME, { 'shared/hello.txt': 'hello from the host\n' });
    chmodSync(join(home.env.HOME, 'shared'), 0o755);
    repo = makeSimpleRepo(join(home.dir, 'config-repo'), {
      'README.md': '# config\n',
      'tools/marker.txt': `marker ${runId}\n`,
      '.tsk/tsk.toml': [
        // The sleep leaves time to change the user file while the task is being set up.
        `setup = """`,
        'COPY tools/marker.txt /opt/tsk-marker.txt',
        `RUN echo "built by setup ${runId}" > /opt/tsk-setup.txt && sleep 3`,
        `"""`,
        'env = [{ name = "FROM_PROJECT_FILE", value = "project file" }, { name = "OVERRIDDEN", value = "project file" }]',
        'volumes = [{ host = "~/shared", container = "/host-data", readonly = true }]',
        '',
      ].join('\n'),
    });
    writeFiles(home.env.TSK_CONFIG_HOME!, { 'tsk/tsk.toml': userToml('defaults') });
    docker('volume', 'create', volume);
    // Seed the volume, and let the unprivileged sandbox user write to it.
    docker('run', '--rm', '--network', 'none', '-v', `${volume}:/v`, BASE_IMAGE, 'sh', '-c', 'echo seeded > /v/seed && chmod 777 /v');
  });

  afterAll(async () => {
    try {
      docker('volume', 'rm', '-f', volume);
    } finally {
      // The image is unique to this run (its setup holds the run id): do not leave it behind.
      if (builtTag) execFileSync('docker', ['rmi', '-f', builtTag], { stdio: 'ignore' });
      await home.cleanup();
    }
  });

  function userToml(defaultsValue: string): string {
    return [
      // The project file bind-mounts a host folder, which needs the user's trust in this repository.
      `trusted_repositories = [${JSON.stringify(repo)}]`,
      '[defaults]',
      'memory_gb = 1.5',
      'cpu = 1',
      'git_town = true',
      `env = [{ name = "FROM_DEFAULTS", value = "${defaultsValue}" }, { name = "OVERRIDDEN", value = "defaults" }, { name = "PROJECT_WINS", value = "defaults" }]`,
      `volumes = [{ name = "${volume.slice('tsk-'.length)}", container = "/cache" }]`,
      '[project.config-repo]',
      'env = [{ name = "PROJECT_WINS", value = "user project" }]',
      '',
    ].join('\n');
  }

  const script = [
    'cat /opt/tsk-setup.txt /opt/tsk-marker.txt > seen-setup.txt',
    'echo "$FROM_DEFAULTS|$FROM_PROJECT_FILE|$OVERRIDDEN|$PROJECT_WINS" > seen-env.txt',
    'cat /cache/seed > seen-volume.txt',
    'echo "written by the task" > /cache/written',
    'cat /host-data/hello.txt > seen-bind.txt',
    'if touch /host-data/new 2>/dev/null; then echo writable; else echo read-only; fi >> seen-bind.txt',
    'if [ -f /sys/fs/cgroup/memory.max ]; then cat /sys/fs/cgroup/memory.max; else cat /sys/fs/cgroup/memory/memory.limit_in_bytes; fi > seen-memory.txt',
    'if [ -f /sys/fs/cgroup/cpu.max ]; then cat /sys/fs/cgroup/cpu.max; else echo "$(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us) $(cat /sys/fs/cgroup/cpu/cpu.cfs_period_us)"; fi > seen-cpu.txt',
    'git add -A && git commit -q -m "test: record what the sandbox sees"',
  ].join('\n');

  it('should build the project layer from setup and run the task with the configuration it was created with', async () => {
    const tsk = startTsk(['run', '--repo', repo, '--agent', 'script', '-n', 'config-check', '--json', '-p', script], { env: home.env });
    await tsk.waitFor('[tsk] Task ');
    // Created: from here on, changing the files must not change this task.
    writeFileSync(userFile, userToml('changed after creation'));
    const result = await tsk.done;
    expect(result.exitCode, result.stderr).toBe(0);
    builtTag = /Built image (\S+)/.exec(result.stderr)?.[1];
    expect(builtTag, result.stderr).toMatch(/^tsk\/config-repo\/default\/script:[0-9a-f]{12}$/);
    const task = JSON.parse(result.stdout) as { id: string; branch: string; status: string };
    expect(task.status).toBe('COMPLETE');
    const seen = (file: string) => git(repo, 'show', `${task.branch}:${file}`);

    expect(seen('seen-setup.txt')).toBe(`built by setup ${runId}\nmarker ${runId}`);
    expect(seen('seen-env.txt')).toBe('defaults|project file|project file|user project');
    expect(seen('seen-volume.txt')).toBe('seeded');
    expect(docker('run', '--rm', '--network', 'none', '-v', `${volume}:/v`, BASE_IMAGE, 'cat', '/v/written')).toBe('written by the task');
    expect(seen('seen-bind.txt')).toBe('hello from the host\nread-only');
    const memory = seen('seen-memory.txt');
    expect(memory).toBe(String(1.5 * 1024 ** 3));
    const [quota, period] = seen('seen-cpu.txt').split(' ').map(Number);
    expect(quota! / period!).toBe(1);
    expect(git(repo, 'config', `git-town-branch.${task.branch}.parent`)).toBe('main');
    expect(containersOf(task.id)).toBe('');
  });

  it('should use the changed configuration for the next task, and reuse the image', async () => {
    const result = await runTsk(['run', '--repo', repo, '--agent', 'script', '-n', 'again', '--json', '-p', 'echo "$FROM_DEFAULTS" > again.txt'], {
      env: home.env,
    });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stderr).toContain(`Using image ${builtTag}`);
    const task = JSON.parse(result.stdout) as { branch: string };
    expect(git(repo, 'show', `${task.branch}:again.txt`)).toBe('changed after creation');
  });
});
