import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { git } from '../test-utils/repo-state.js';
import { makeTskHome, runTsk, type TskHome } from '../test-utils/run-tsk.js';
import { containersOf, makeSimpleRepo, writeFiles } from '../test-utils/simple-repo.js';

/**
 * The host's CA bundle: on hosts behind a TLS-intercepting proxy it holds that proxy's CA, which image
 * builds and sandboxes must trust to reach package registries.
 */
const HOST_CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

/** `node --version` and the like, run straight in the image (no tsk involved), to compare with the task's view. */
function inImage(tag: string, command: string): string {
  return execFileSync('docker', ['run', '--rm', '--network', 'none', '--user', 'agent', tag, 'bash', '-c', command], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  }).trim();
}

interface TaskJson {
  id: string;
  stack: string;
  status: string;
  branch: string;
}

/**
 * The node and python stack images build on this host (Debian packages only) and their toolchains run in
 * the sandbox. Slow on first run (a few minutes per stack); images are tagged by content, so later runs
 * reuse them.
 */
describe('stack images (real Docker)', () => {
  let home: TskHome;

  beforeAll(async () => {
    home = await makeTskHome();
    writeFiles(join(home.env.TSK_CONFIG_HOME!, 'tsk'), { 'tsk.toml': `[defaults]\nca_certificates = ["${HOST_CA_BUNDLE}"]\n` });
  });

  afterAll(async () => {
    await home.cleanup();
  });

  async function runScript(repo: string, script: string): Promise<{ task: TaskJson; tag: string }> {
    const result = await runTsk(['run', '--repo', repo, '--agent', 'script', '-n', 'toolchain', '--json', '-p', script], { env: home.env });
    expect(result.exitCode, result.stderr).toBe(0);
    const task = JSON.parse(result.stdout) as TaskJson;
    expect(task.status).toBe('COMPLETE');
    expect(containersOf(task.id)).toBe('');
    const tag = /(?:Built|Using) image (\S+)/.exec(result.stderr)?.[1];
    if (!tag) throw new Error(`no image in the log:\n${result.stderr}`);
    return { task, tag };
  }

  it('should detect node, build its image and run node and npm in the sandbox, trusting the configured CA', async () => {
    const repo = makeSimpleRepo(join(home.dir, 'node-project'), { 'package.json': '{ "name": "node-project", "private": true }\n' });
    const { task, tag } = await runScript(
      repo,
      [
        'node --version > node-version.txt',
        'npm --version > npm-version.txt',
        'node -e "console.log(require(\'./package.json\').name)" > package-name.txt',
        'ls /usr/local/share/ca-certificates/tsk/ | wc -l > ca-count.txt',
        'echo "$NODE_EXTRA_CA_CERTS" >> ca-count.txt',
        'git add -A && git commit -q -m "chore: record the node toolchain"',
      ].join('\n'),
    );
    expect(task.stack).toBe('node');
    expect(tag).toMatch(/^tsk\/node-project\/node\/script:[0-9a-f]{12}$/);
    const branchFile = (file: string) => git(repo, 'show', `${task.branch}:${file}`);
    expect(branchFile('node-version.txt')).toMatch(/^v\d+\.\d+\.\d+$/);
    expect(branchFile('node-version.txt')).toBe(inImage(tag, 'node --version'));
    expect(branchFile('npm-version.txt')).toBe(inImage(tag, 'npm --version'));
    expect(branchFile('package-name.txt')).toBe('node-project');
    const [count, variable] = branchFile('ca-count.txt').split('\n');
    expect(Number(count)).toBeGreaterThan(0);
    expect(variable).toBe(HOST_CA_BUNDLE);
  });

  it('should detect python, build its image and run python, pip and venv in the sandbox', async () => {
    const repo = makeSimpleRepo(join(home.dir, 'python-project'), { 'requirements.txt': '\n', 'main.py': 'print("hello from python")\n' });
    const { task, tag } = await runScript(
      repo,
      [
        'python3 --version > python-version.txt',
        'python3 -m pip --version | cut -d" " -f1,2 > pip-version.txt',
        'python3 main.py > main-output.txt',
        'python3 -m venv /tmp/venv && /tmp/venv/bin/python -c "import ssl, sys; print(sys.prefix)" > venv.txt',
        'git add -A && git commit -q -m "chore: record the python toolchain"',
      ].join('\n'),
    );
    expect(task.stack).toBe('python');
    expect(tag).toMatch(/^tsk\/python-project\/python\/script:[0-9a-f]{12}$/);
    const branchFile = (file: string) => git(repo, 'show', `${task.branch}:${file}`);
    expect(branchFile('python-version.txt')).toMatch(/^Python 3\.\d+\.\d+$/);
    expect(branchFile('python-version.txt')).toBe(inImage(tag, 'python3 --version'));
    expect(branchFile('pip-version.txt')).toBe(inImage(tag, 'python3 -m pip --version | cut -d" " -f1,2'));
    expect(branchFile('main-output.txt')).toBe('hello from python');
    expect(branchFile('venv.txt')).toBe('/tmp/venv');
  });
});
