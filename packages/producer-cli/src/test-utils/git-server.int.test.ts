import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGitServer, type GitServer } from './git-server.js';
import { makeSimpleRepo } from './simple-repo.js';

// The fixture the fleet tests use as the team's remote: it must really serve, refuse and authenticate.
let server: GitServer;
let root: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  server = await startGitServer({ auth: { user: 'team', password: 's3cret' } });
  root = mkdtempSync(join(tmpdir(), 'tsk-git-server-'));
  // git on this host reaches the server under the same name the containers use.
  writeFileSync(join(root, 'gitconfig'), `[http]\n\tcurloptResolve = ${server.resolve}\n`);
  env = { ...process.env, GIT_CONFIG_GLOBAL: join(root, 'gitconfig'), GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0' };
});

afterAll(async () => {
  await server?.stop();
  if (root) rmSync(root, { recursive: true, force: true });
});

const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

describe('git server test fixture', () => {
  it('serves pushes and fetches over smart HTTP, with Basic auth, and refuses what its hook refuses', async () => {
    const url = await server.createRepo('demo');
    expect(url).toBe('http://team:s3cret@gitserver:8080/demo.git');
    const repo = makeSimpleRepo(join(root, 'repo'));
    const head = git(repo, 'rev-parse', 'HEAD');

    git(repo, 'push', '-q', url, 'HEAD:refs/heads/main', 'HEAD:refs/tsk/snapshots/abc');
    expect(await server.refs('demo')).toEqual(new Map([['refs/heads/main', head], ['refs/tsk/snapshots/abc', head]]));
    expect(git(root, 'ls-remote', url, 'refs/tsk/*')).toBe(`${head}\trefs/tsk/snapshots/abc`);

    // Without the credentials the server answers 401 and git, with no terminal to ask on, gives up.
    expect(() => git(root, 'ls-remote', server.url('demo', { credentials: false }))).toThrow(/Authentication failed|could not read Username/);

    await server.refusePushes('demo', 'refs/tsk/results/');
    expect(() => git(repo, 'push', '-q', url, 'HEAD:refs/tsk/results/abc')).toThrow(/this server refuses pushes to refs\/tsk\/results\/abc/);
    git(repo, 'push', '-q', url, 'HEAD:refs/heads/other');
    expect([...(await server.refs('demo')).keys()].sort()).toEqual(['refs/heads/main', 'refs/heads/other', 'refs/tsk/snapshots/abc']);
  });
});
