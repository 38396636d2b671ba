import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createDocker, DEFAULT_BASE_IMAGE, ensureBaseImage, ensureDockerLockDir, ImageBuilder, silentSink, type ImagePlan } from '@tsk/engine';

const run = promisify(execFile);

/** Host name and port of the git server on its test network: every client uses the same URLs. */
export const GIT_SERVER_HOST = 'gitserver';
export const GIT_SERVER_PORT = 8080;

const SERVER_SCRIPT = resolve(fileURLToPath(import.meta.url), '../git-server/server.mjs');
const REPO_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** A git server for a test: smart HTTP (`git http-backend`) in a container on a network the test owns. */
export interface GitServer {
  /** The Docker network the test created for it; containers that join it reach {@link url}s by name. */
  network: string;
  /** `gitserver:8080:<ip>`: the value of `http.curloptResolve` that lets git on this host use the same URLs. */
  resolve: string;
  /** `http://gitserver:8080/<name>.git` (with the Basic auth user and password when the server has them). */
  url(name: string, options?: { credentials?: boolean }): string;
  /** Create an empty bare repository that accepts pushes. */
  createRepo(name: string): Promise<string>;
  /** `<ref> <object>` of every ref of the repository, as the server has them. */
  refs(name: string): Promise<Map<string, string>>;
  /** Make the repository refuse pushes to refs under `prefix` (a pre-receive hook), as a server's rules would. */
  refusePushes(name: string, prefix: string): Promise<void>;
  /** Also attach the server to `network` (one the test created), as `gitserver` there too. */
  connect(network: string): Promise<void>;
  /** Remove the container and the network. */
  stop(): Promise<void>;
}

export interface GitServerOptions {
  /** Require Basic auth with this user and password. */
  auth?: { user: string; password: string };
}

function imagePlan(baseImage: string): ImagePlan {
  const script = readFileSync(SERVER_SCRIPT);
  const dockerfile = [
    `FROM ${baseImage}`,
    'ARG DEBIAN_FRONTEND=noninteractive',
    'RUN apt-get update \\',
    ' && apt-get install -y --no-install-recommends git nodejs \\',
    ' && apt-get clean && rm -rf /var/lib/apt/lists/* \\',
    ' && mkdir -p /srv/git',
    'COPY server.mjs /usr/local/lib/git-server.mjs',
    `EXPOSE ${GIT_SERVER_PORT}`,
    'ENTRYPOINT ["node", "/usr/local/lib/git-server.mjs"]',
    '',
  ].join('\n');
  const hash = createHash('sha256').update(dockerfile).update(script).digest('hex').slice(0, 12);
  return {
    tag: `tsk-test/git-server:${hash}`,
    baseImage,
    dockerfile,
    layers: [{ kind: 'base', name: 'git-server', source: 'built-in' }],
    contextFiles: [{ name: 'server.mjs', content: script }],
    buildArgs: {},
    labels: { 'tsk.role': 'test-git-server' },
  };
}

async function docker(...args: string[]): Promise<string> {
  return (await run('docker', args, { encoding: 'utf8' })).stdout.trim();
}

/**
 * Build the git server image once (by content; about 30 s the first time, from the base image and the
 * Debian mirror), create a network of the test's own and start the server on it as `gitserver`.
 */
export async function startGitServer(options: GitServerOptions = {}): Promise<GitServer> {
  const engine = createDocker();
  const plan = imagePlan(DEFAULT_BASE_IMAGE);
  await ensureBaseImage({ docker: engine, tag: plan.baseImage, log: silentSink });
  await new ImageBuilder(engine, { lockDir: await ensureDockerLockDir() }).ensureImage(plan, { log: silentSink });

  const suffix = randomBytes(4).toString('hex');
  const network = `tsk-test-git-${suffix}`;
  const container = `tsk-test-gitserver-${suffix}`;
  await docker('network', 'create', '--label', 'tsk.test=git-server', network);
  try {
    const env = options.auth ? ['-e', `GIT_SERVER_USER=${options.auth.user}`, '-e', `GIT_SERVER_PASSWORD=${options.auth.password}`] : [];
    await docker('run', '-d', '--name', container, '--label', 'tsk.test=git-server', '--network', network, '--network-alias', GIT_SERVER_HOST, ...env, plan.tag);
    const ip = await docker('inspect', '-f', `{{(index .NetworkSettings.Networks "${network}").IPAddress}}`, container);
    await waitForListening(container);
    return serverOn(network, container, `${GIT_SERVER_HOST}:${GIT_SERVER_PORT}:${ip}`, options);
  } catch (error) {
    await removeAll(container, network);
    throw error;
  }
}

async function waitForListening(container: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if ((await docker('logs', container).catch(() => '')).includes('listening')) return;
    if (Date.now() > deadline) throw new Error(`the git server ${container} did not start:\n${await docker('logs', container).catch(() => '')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function removeAll(container: string, network: string): Promise<void> {
  await docker('rm', '-f', container).catch(() => undefined);
  await docker('network', 'rm', network).catch(() => undefined);
}

function checkName(name: string): string {
  if (!REPO_NAME.test(name)) throw new Error(`not a test repository name: ${name}`);
  return name;
}

function serverOn(network: string, container: string, resolveEntry: string, options: GitServerOptions): GitServer {
  const exec = (...args: string[]) => docker('exec', container, ...args);
  const path = (name: string) => `/srv/git/${checkName(name)}.git`;
  const url = (name: string, { credentials = true } = {}) => {
    const auth = options.auth && credentials ? `${encodeURIComponent(options.auth.user)}:${encodeURIComponent(options.auth.password)}@` : '';
    return `http://${auth}${GIT_SERVER_HOST}:${GIT_SERVER_PORT}/${checkName(name)}.git`;
  };
  return {
    network,
    resolve: resolveEntry,
    url,
    createRepo: async (name) => {
      await exec('git', 'init', '-q', '--bare', '-b', 'main', path(name));
      await exec('git', '-C', path(name), 'config', 'http.receivepack', 'true');
      return url(name);
    },
    refs: async (name) => {
      const out = await exec('git', '-C', path(name), 'for-each-ref', '--format=%(refname) %(objectname)');
      return new Map(out.split('\n').filter(Boolean).map((line) => line.split(' ') as [string, string]));
    },
    refusePushes: async (name, prefix) => {
      if (!/^[A-Za-z0-9/_.-]+$/.test(prefix)) throw new Error(`not a ref prefix: ${prefix}`);
      const hook = ['#!/bin/sh', 'while read old new ref; do', `  case "$ref" in ${prefix}*) echo "this server refuses pushes to $ref" >&2; exit 1;; esac`, 'done', ''].join('\n');
      await exec('sh', '-c', `cat > ${path(name)}/hooks/pre-receive <<'HOOK'\n${hook}HOOK\nchmod 755 ${path(name)}/hooks/pre-receive`);
    },
    connect: async (other) => {
      await docker('network', 'connect', '--alias', GIT_SERVER_HOST, other, container);
    },
    stop: () => removeAll(container, network),
  };
}
