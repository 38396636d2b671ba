import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// Test-only helper shared with the engine's queue tests (one way to start tsk's Redis image).
import { startTestRedis, type TestRedis } from '../../../engine/src/test-utils/redis-container.js';
import { git } from '../test-utils/repo-state.js';
import { makeTskHome, runTsk, type TskHome } from '../test-utils/run-tsk.js';
import { containersOf, makeSimpleRepo, writeFiles } from '../test-utils/simple-repo.js';

interface TaskJson {
  id: string;
  status: string;
  agent: string;
  branch: string | null;
}

/** How often `text` occurs in `output`. */
function count(output: string, text: string): number {
  return output.split(text).length - 1;
}

/** The tags of the images a `tsk run` built (each unique to its test: removed afterwards). */
function builtTags(stderr: string): string[] {
  return [...stderr.matchAll(/Built image (\S+)/g)].map((match) => match[1]!);
}

/**
 * A TSK user's files as they have them: the old `[docker]`/`[git_town]` sections and current TSK keys
 * (`cpu_limit`, `sudo`, `container_engine = "podman"`), and a `squid.conf` in the config folder.
 */
describe('a TSK user’s configuration through the built CLI (real Docker, real Redis)', () => {
  let redis: TestRedis;
  let home: TskHome;
  let repo: string;
  let userFile: string;
  let projectFile: string;
  const images: string[] = [];

  beforeAll(async () => {
    redis = await startTestRedis();
    home = await makeTskHome({ TSK_REDIS_URL: redis.url() });
    repo = makeSimpleRepo(join(home.dir, 'tsk-user-repo'), {
      'README.md': '# tsk user\n',
      '.tsk/tsk.toml': ['cpu_limit = 1', 'sudo = true', ''].join('\n'),
    });
    userFile = join(home.env.TSK_CONFIG_HOME!, 'tsk', 'tsk.toml');
    projectFile = join(repo, '.tsk', 'tsk.toml');
    writeFiles(join(home.env.TSK_CONFIG_HOME!, 'tsk'), {
      'tsk.toml': ['container_engine = "podman"', '[docker]', 'memory_limit_gb = 1.5', 'dind = true', '[git_town]', 'enabled = true', ''].join('\n'),
    });
  });

  afterAll(async () => {
    if (home) await runTsk(['proxy', 'stop'], { env: home.env });
    for (const tag of images) execFileSync('docker', ['rmi', '-f', tag], { stdio: 'ignore' });
    await redis?.stop();
    await home?.cleanup();
  });

  const warnings = () => [
    `Warning: ${userFile}: container_engine: podman is not supported: tsk runs its sandboxes on Docker only; ignored`,
    `Warning: ${userFile}: docker.memory_limit_gb: TSK’s old key, read as defaults.memory_gb = 1.5; write memory_gb under [defaults] instead`,
    `Warning: ${userFile}: docker.dind: TSK’s Docker-in-Docker is not supported: a sandbox never gets a Docker engine; ignored`,
    `Warning: ${userFile}: git_town.enabled: TSK’s old key, read as defaults.git_town = true; write git_town under [defaults] instead`,
    `Warning: ${projectFile}: cpu_limit: TSK’s name for cpu, read as cpu = 1; write cpu instead`,
    `Warning: ${projectFile}: sudo: sudo in the sandbox is not supported: the agent never becomes root (image layers run as root while the image is built); ignored`,
  ];

  it('should queue one task per -a entry, repeats included, printing each warning once', async () => {
    const result = await runTsk(['add', '--repo', repo, '-a', 'script,script', '-n', 'twice', '--json', '-p', 'echo hi'], { env: home.env });
    expect(result.exitCode, result.stderr).toBe(0);
    const queued = JSON.parse(result.stdout) as TaskJson[];
    expect(queued.map((task) => [task.agent, task.status])).toEqual([
      ['script', 'QUEUED'],
      ['script', 'QUEUED'],
    ]);
    expect(queued[0]!.id).not.toBe(queued[1]!.id);
    // The configuration was loaded three times (the queue, then one task per agent): each line once.
    for (const line of warnings()) expect(count(result.stderr, line), `${line}\n---\n${result.stderr}`).toBe(1);
    expect(result.stderr.split('\n').filter((line) => line.startsWith('Warning:'))).toHaveLength(warnings().length);

    const listed = await runTsk(['list', '--json'], { env: home.env });
    expect(listed.exitCode, listed.stderr).toBe(0);
    expect((JSON.parse(listed.stdout) as TaskJson[]).map((task) => task.id).sort()).toEqual(queued.map((task) => task.id).sort());
  });

  it('should run a task with the TSK values applied, behind the proxy configured by <config>/tsk/squid.conf', async () => {
    // Only the Debian mirror, which the image build needs: every host of tsk's default allowlist is denied.
    const squidConf = [
      `# a TSK user's squid.conf (${randomUUID()})`,
      'http_port 3128',
      'acl only_debian dstdomain -n deb.debian.org',
      'acl Safe_ports port 80 443',
      'http_access deny !Safe_ports',
      'http_access allow only_debian',
      'http_access deny all',
      'cache deny all',
      '',
    ].join('\n');
    writeFiles(join(home.env.TSK_CONFIG_HOME!, 'tsk'), { 'squid.conf': squidConf });
    const script = [
      'if [ -f /sys/fs/cgroup/memory.max ]; then cat /sys/fs/cgroup/memory.max; else cat /sys/fs/cgroup/memory/memory.limit_in_bytes; fi > seen-memory.txt',
      'if [ -f /sys/fs/cgroup/cpu.max ]; then cat /sys/fs/cgroup/cpu.max; else echo "$(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us) $(cat /sys/fs/cgroup/cpu/cpu.cfs_period_us)"; fi > seen-cpu.txt',
      // 403 is Squid refusing: npm's registry is on tsk's default allowlist, so only squid.conf denies it.
      'curl -s -o /dev/null -w "%{http_code}" --max-time 30 http://registry.npmjs.org/ > seen-npm.txt || true',
      'git add -A && git commit -q -m "test: record what the sandbox sees"',
    ].join('\n');
    const result = await runTsk(['run', '--repo', repo, '--agent', 'script', '-n', 'tsk-config', '--json', '-p', script], { env: home.env });
    expect(result.exitCode, result.stderr).toBe(0);
    images.push(...builtTags(result.stderr));
    for (const line of warnings()) expect(count(result.stderr, line), `${line}\n---\n${result.stderr}`).toBe(1);
    const task = JSON.parse(result.stdout) as TaskJson;
    expect(task.status).toBe('COMPLETE');
    const seen = (file: string) => git(repo, 'show', `${task.branch}:${file}`);
    expect(seen('seen-memory.txt')).toBe(String(1.5 * 1024 ** 3));
    const [quota, period] = seen('seen-cpu.txt').split(' ').map(Number);
    expect(quota! / period!).toBe(1);
    expect(seen('seen-npm.txt')).toBe('403');
    expect(git(repo, 'config', `git-town-branch.${task.branch}.parent`)).toBe('main');
    expect(containersOf(task.id)).toBe('');
  });
});

/**
 * TSK's Dockerfile snippets: the repository's `.tsk/dockerfiles/` and the user's `<config>/tsk/dockerfiles/`
 * become image layers, and the built-in `tech-stack` template makes the agent (here the `script` agent,
 * standing in for a model) write the stack snippet that the next task's image is built with.
 */
describe('Dockerfile snippets and the tech-stack template (real Docker)', () => {
  const runId = randomUUID().slice(0, 8);
  let home: TskHome;
  let repo: string;
  let configDir: string;
  const images: string[] = [];

  beforeAll(async () => {
    home = await makeTskHome();
    configDir = join(home.env.TSK_CONFIG_HOME!, 'tsk');
    repo = realpathSync(
      makeSimpleRepo(join(home.dir, 'snippet-repo'), {
        'README.md': '# snippets\n',
        // Committed, as a team shares it.
        '.tsk/dockerfiles/project/snippet-repo.dockerfile': `RUN echo "project snippet ${runId}" > /opt/tsk-project-marker\n`,
      }),
    );
    writeFiles(configDir, { 'dockerfiles/agent/script.dockerfile': `RUN echo "user agent snippet ${runId}" > /opt/tsk-agent-marker\n` });
  });

  afterAll(async () => {
    if (home) await runTsk(['proxy', 'stop'], { env: home.env });
    for (const tag of images) execFileSync('docker', ['rmi', '-f', tag], { stdio: 'ignore' });
    await home?.cleanup();
  });

  const projectSnippet = () => join(repo, '.tsk', 'dockerfiles', 'project', 'snippet-repo.dockerfile');
  const stackSnippet = () => join(repo, '.tsk', 'dockerfiles', 'stack', 'default.dockerfile');
  const userAgentSnippet = () => join(configDir, 'dockerfiles', 'agent', 'script.dockerfile');

  async function dryRun(): Promise<{ header: string[]; dockerfile: string }> {
    const result = await runTsk(['docker', 'build', '--dry-run', '--repo', repo, '--agent', 'script'], { env: home.env });
    expect(result.exitCode, result.stderr).toBe(0);
    const [header = '', ...rest] = result.stdout.split('\n\n');
    return { header: header.split('\n'), dockerfile: rest.join('\n\n') };
  }

  it('should show each snippet as its layer, in layer order, where it came from', async () => {
    const { header, dockerfile } = await dryRun();
    expect(header.slice(2, 5)).toEqual([
      '# layer stack: default (empty)',
      `# layer project: snippet-repo (${projectSnippet()})`,
      `# layer agent: script (${userAgentSnippet()})`,
    ]);
    const at = (text: string) => dockerfile.indexOf(text);
    expect(at(`project snippet ${runId}`)).toBeGreaterThan(at('# ---- tsk layer stack: default'));
    expect(at(`user agent snippet ${runId}`)).toBeGreaterThan(at(`project snippet ${runId}`));
    // As `setup` lines do: as root.
    expect(dockerfile).toContain(`# ---- tsk layer project: snippet-repo (config) ----\nUSER root\nRUN echo "project snippet ${runId}"`);
  });

  it('should let a tech-stack task write the stack snippet that the next task’s image is built with', async () => {
    // The script reads its instructions, as a model would, and writes the file they name; `exit 0` ends
    // the script before the template's markdown (everything above the prompt is a bash comment).
    const agent = [
      `snippet=$(grep -o '\\.tsk/dockerfiles/stack/[a-z0-9._-]*\\.dockerfile' /tsk/instructions.md | head -n 1)`,
      'mkdir -p "$(dirname "$snippet")"',
      `echo 'RUN echo "stack snippet ${runId}" > /opt/tsk-stack-marker' > "$snippet"`,
      'git add "$snippet" && git commit -q -m "build(tsk): add the stack layer"',
      'exit 0',
    ].join('\n');
    const first = await runTsk(['run', '--repo', repo, '--agent', 'script', '-t', 'tech-stack', '-n', 'stack', '--json', '-p', agent], { env: home.env });
    expect(first.exitCode, first.stderr).toBe(0);
    images.push(...builtTags(first.stderr));
    const task = JSON.parse(first.stdout) as TaskJson;
    expect(task.status).toBe('COMPLETE');
    expect(git(repo, 'show', `${task.branch}:.tsk/dockerfiles/stack/default.dockerfile`)).toBe(`RUN echo "stack snippet ${runId}" > /opt/tsk-stack-marker`);

    // The user merges the result; the next task reads the snippet from the repository.
    git(repo, 'merge', '-q', '--ff-only', task.branch!);
    expect((await dryRun()).header[2]).toBe(`# layer stack: default (${stackSnippet()})`);
    const script = 'cat /opt/tsk-stack-marker /opt/tsk-project-marker /opt/tsk-agent-marker > seen.txt && git add seen.txt && git commit -q -m "test: markers"';
    const next = await runTsk(['run', '--repo', repo, '--agent', 'script', '-n', 'next', '--json', '-p', script], { env: home.env });
    expect(next.exitCode, next.stderr).toBe(0);
    const built = builtTags(next.stderr);
    images.push(...built);
    expect(built, next.stderr).toHaveLength(1);
    const result = JSON.parse(next.stdout) as TaskJson;
    expect(git(repo, 'show', `${result.branch}:seen.txt`)).toBe(
      [`stack snippet ${runId}`, `project snippet ${runId}`, `user agent snippet ${runId}`].join('\n'),
    );
  });
});
