import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assetsRoot, lockDomain, planProxyImage, proxyFingerprint } from '@tsk/engine';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TaskViewJson } from '@tsk/engine/queue';
import { makeSimpleRepo } from '../../test-utils/simple-repo.js';
import { makeTskHome, startTsk, type TskHome, type TskProcess } from '../../test-utils/run-tsk.js';

// Network rules: the sandboxes ask only for names the proxy denies by name, before any lookup or
// connection (`*.example`, `*.example.org`, `*.example.net`): nothing leaves the machine. The image build
// reaches deb.debian.org through the proxy, like every `tsk run` test's.

const PROJECT = `tsk-denials-test-${randomUUID().slice(0, 8)}`;

function docker(...args: string[]): string {
  return execFileSync('docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

function dockerLines(...args: string[]): string[] {
  return docker(...args).split('\n').filter(Boolean);
}

/** Write a file into a running sandbox (as its user): the test's go-ahead. */
function putFile(taskId: string, path: string): void {
  execFileSync('docker', ['exec', '-u', 'agent', `tsk-${taskId}`, 'touch', path]);
}

/** Wait (in the sandbox) for the test to put `path`. */
function waitFor(path: string): string {
  return `for i in $(seq 1 3000); do [ -e ${path} ] && break; sleep 0.1; done`;
}

/** `CHECK <name> <value>` lines the script printed. */
function checks(stderr: string): Record<string, string> {
  const lines = stderr.split('\n').filter((line) => line.startsWith('CHECK '));
  return Object.fromEntries(lines.map((line) => {
    const [, name = '', ...value] = line.split(' ');
    return [name, value.join(' ')];
  }));
}

/** The `proxy denied …` lines of a task's log (each a `Warning:` on the terminal). */
function denialLines(stderr: string): string[] {
  return stderr.split('\n').filter((line) => line.startsWith('Warning: proxy denied ') || line.startsWith('Warning: Proxy denied '));
}

interface RunningTask {
  tsk: TskProcess;
  id: Promise<string>;
}

describe("a task's proxy denials (tsk run, real Docker)", () => {
  let home: TskHome;
  let root: string;
  let repo: string;
  let fingerprint: string;
  let proxyImage: string;
  const existingImages = new Set<string>();

  function startTask(name: string, script: string): RunningTask {
    const tsk = startTsk(['run', '--repo', repo, '--json', '--project', PROJECT, '--agent', 'script', '-n', name, '-p', script], { env: home.env });
    let seen = '';
    const id = new Promise<string>((resolve, reject) => {
      tsk.child.stderr?.on('data', (chunk: Buffer) => {
        seen += chunk.toString();
        const match = /\[tsk\] Task ([A-Za-z0-9_]{8}) /.exec(seen);
        if (match) resolve(match[1]!);
      });
      void tsk.done.then(() => reject(new Error(`tsk ended without a task id:\n${seen}`)));
    });
    id.catch(() => undefined);
    return { tsk, id };
  }

  function removeProxyObjects(): void {
    const filter = `label=tsk.proxy=${fingerprint}`;
    for (const container of dockerLines('ps', '-a', '--filter', filter, '--format', '{{.Names}}')) docker('rm', '-f', container);
    for (const network of dockerLines('network', 'ls', '--filter', filter, '--format', '{{.Name}}')) {
      for (const member of dockerLines('network', 'inspect', network, '--format', '{{range .Containers}}{{.Name}}\n{{end}}')) docker('rm', '-f', member);
      docker('network', 'rm', network);
    }
  }

  beforeAll(async () => {
    home = await makeTskHome();
    root = mkdtempSync(join(tmpdir(), 'tsk-denials-'));
    repo = makeSimpleRepo(join(root, 'repo'));
    const plan = await planProxyImage(join(assetsRoot(), 'squid'));
    proxyImage = plan.tag;
    fingerprint = proxyFingerprint({ hostPorts: [], squidConf: plan.defaultSquidConf }, proxyImage, lockDomain(join(home.dir, 'data', 'tsk', 'locks')));
    for (const image of dockerLines('images', '--format', '{{.Repository}}:{{.Tag}}')) existingImages.add(image);
  });

  afterAll(async () => {
    if (fingerprint) removeProxyObjects();
    for (const image of dockerLines('images', '--format', '{{.Repository}}:{{.Tag}}')) {
      if (!existingImages.has(image) && (image.startsWith(`tsk/${PROJECT}/`) || image === proxyImage)) {
        try {
          docker('rmi', image);
        } catch {
          // in use elsewhere
        }
      }
    }
    await home?.cleanup();
    rmSync(root, { recursive: true, force: true });
  });

  it("should say each denied request in its own task's log as it happens, count them in the summary, and show the agent how to allow the host", async () => {
    const check = 'check() { printf "CHECK %s %s\\n" "$1" "$2"; }';
    const first = startTask(
      'asks',
      [
        'set +e',
        check,
        'echo WAITING-FOR-TEST',
        waitFor('/tmp/go'),
        `check code "$(curl -s -o /dev/null -w '%{http_code}' --max-time 30 http://blocked.example/)"`,
        'check page "$(curl -s --max-time 30 http://blocked.example/x | tr "\\n" " ")"',
        'curl -s -o /dev/null --max-time 30 https://denied.example.org/; check connect "$?"',
        'echo WAITING-TO-END',
        waitFor('/tmp/end'),
      ].join('\n'),
    );
    const second = startTask(
      'asks-too',
      ['set +e', check, 'echo WAITING-FOR-TEST', waitFor('/tmp/go'), 'curl -s -o /dev/null --max-time 30 https://other-denied.example.net/; check connect "$?"'].join('\n'),
    );
    await Promise.all([first.tsk.waitFor('WAITING-FOR-TEST'), second.tsk.waitFor('WAITING-FOR-TEST')]);
    const ids = await Promise.all([first.id, second.id]);

    // Both sandboxes are behind one proxy, on networks of their own: only its access log tells them apart.
    const proxy = `tsk-proxy-${fingerprint}`;
    for (const id of ids) {
      expect(dockerLines('network', 'inspect', `tsk-agent-${id}`, '--format', '{{range .Containers}}{{.Name}}\n{{end}}').sort()).toEqual([`tsk-${id}`, proxy].sort());
    }
    for (const id of ids) putFile(id, '/tmp/go');

    // The first task's denials reach its log while it still runs.
    await first.tsk.waitFor('Warning: proxy denied CONNECT denied.example.org:443', 60_000);
    putFile(ids[0], '/tmp/end');
    const [one, two] = await Promise.all([first.tsk.done, second.tsk.done]);
    expect(one.exitCode, one.stderr).toBe(0);
    expect(two.exitCode, two.stderr).toBe(0);

    expect(denialLines(one.stderr)).toEqual([
      'Warning: proxy denied GET http://blocked.example/',
      'Warning: proxy denied GET http://blocked.example/x',
      'Warning: proxy denied CONNECT denied.example.org:443',
      'Warning: Proxy denied 3 request(s) of this task: blocked.example, denied.example.org',
    ]);
    expect(denialLines(two.stderr)).toEqual([
      'Warning: proxy denied CONNECT other-denied.example.net:443',
      'Warning: Proxy denied 1 request(s) of this task: other-denied.example.net',
    ]);
    expect((JSON.parse(one.stdout) as TaskViewJson).summary).toBe('Proxy denied 3 requests');
    expect((JSON.parse(two.stdout) as TaskViewJson).summary).toBe('Proxy denied 1 request');

    // What the agent saw: 403, and for plain HTTP a page that names the host and the setting.
    const found = checks(one.stderr);
    expect(found.code).toBe('403');
    expect(found.page).toContain("tsk's proxy denied this request to blocked.example: the host is not in the sandbox's allowlist.");
    expect(found.page).toContain('acl allowed_domains dstdomain -n blocked.example');
    expect(found.page).toContain('squid_conf / squid_conf_path in tsk.toml');
    expect(found.connect).toBe('56'); // curl: the proxy refused the tunnel
    expect(checks(two.stderr).connect).toBe('56');
  });
});
