import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTskHome, runTsk, startTsk, type TskHome } from '../../test-utils/run-tsk.js';
import { makeSimpleRepo } from '../../test-utils/simple-repo.js';

// Finding 15: Docker engines before 26.0 (this machine's is 20.10) may forward the DNS queries of a
// container on an `--internal` network to outside resolvers (CVE-2024-29018: from the host's network
// namespace when the resolver is on loopback): a sandbox could leak data in the names it looks up. tsk
// pins the engine's forwarder to the proxy, which answers no DNS, and gives the sandbox a resolv.conf that
// asks nobody. The test looks up names the host itself resolves, through the sandbox's resolver and by
// asking the engine's resolver directly, with a DNS server on the host's loopback that answers every name
// and records it. Traffic stays on loopback and on the networks tsk creates.

const PROJECT = `tsk-dns-${randomUUID().slice(0, 8)}`;
const ANSWER = [192, 0, 2, 7];

/** A DNS server on 127.0.0.1:53 that answers every A query with 192.0.2.7 and remembers the names. */
async function loopbackDns(): Promise<{ socket: Socket; names: string[] }> {
  const names: string[] = [];
  const socket = createSocket('udp4');
  socket.on('message', (query, peer) => {
    const labels: string[] = [];
    let at = 12;
    while (at < query.length && query[at] !== 0) {
      const length = query[at] ?? 0;
      labels.push(query.subarray(at + 1, at + 1 + length).toString('ascii'));
      at += length + 1;
    }
    names.push(labels.join('.'));
    const question = query.subarray(12, at + 5);
    const header = Buffer.from(query.subarray(0, 12));
    header.writeUInt16BE(0x8180, 2); // response, recursion available, no error
    header.writeUInt16BE(1, 6); // one answer
    const answer = Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, ...ANSWER]);
    socket.send(Buffer.concat([header, question, answer]), peer.port, peer.address);
  });
  await new Promise<void>((resolve, reject) => socket.once('error', reject).bind(53, '127.0.0.1', resolve));
  return { socket, names };
}

function docker(...args: string[]): string {
  return execFileSync('docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

describe.runIf(process.getuid?.() === 0)('DNS from an isolated sandbox (finding 15, real Docker)', () => {
  let home: TskHome;
  let root: string;
  let repo: string;
  let dns: { socket: Socket; names: string[] };

  beforeAll(async () => {
    home = await makeTskHome();
    root = mkdtempSync(join(tmpdir(), 'tsk-dns-'));
    repo = makeSimpleRepo(join(root, 'repo'));
    dns = await loopbackDns();
  });

  afterAll(async () => {
    dns?.socket.close();
    if (home) await runTsk(['proxy', 'stop'], { env: home.env });
    for (const image of docker('images', '--format', '{{.Repository}}:{{.Tag}}').split('\n')) {
      if (image.startsWith(`tsk/${PROJECT}/`)) docker('rmi', image);
    }
    await home?.cleanup();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('should leave an isolated sandbox no DNS server to ask: no name resolves, at once', async () => {
    const tag = randomUUID().slice(0, 8);
    const script = [
      'set +e',
      `started=$(date +%s%N); getent hosts sandbox-${tag}.example; echo "CHECK getent $? $(( ($(date +%s%N) - started) / 1000000 ))"`,
      // A name the host itself resolves (its mirror).
      'getent hosts deb.debian.org; echo "CHECK mirror $?"',
      // Ask the engine's own resolver directly, as a hostile agent would.
      `python3 - <<'PY'`,
      'import socket',
      's = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(6)',
      `name = b''.join(bytes([len(p)]) + p for p in b'direct-${tag}.example'.split(b'.')) + b'\\0'`,
      "s.sendto(b'\\x12\\x34\\x01\\x00\\x00\\x01\\x00\\x00\\x00\\x00\\x00\\x00' + name + b'\\x00\\x01\\x00\\x01', ('127.0.0.11', 53))",
      'try:',
      '    reply = s.recv(512); print("CHECK direct answers", reply[7])',
      'except OSError as error:',
      '    print("CHECK direct none", type(error).__name__)',
      'PY',
      'sleep 6',
    ].join('\n');
    const tsk = startTsk(['run', '--repo', repo, '--project', PROJECT, '--agent', 'script', '-n', 'dns', '-p', script], { env: home.env });
    let stderr = '';
    tsk.child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    await tsk.waitFor('Starting script agent');
    const id = /\[tsk\] Task ([A-Za-z0-9_]{8}) /.exec(stderr)?.[1];
    expect(id).toBeDefined();
    const inspected = JSON.parse(docker('inspect', `tsk-${id}`)) as [{ HostConfig: { Dns: string[] | null; NetworkMode: string } }];
    const proxyAddress = docker('network', 'inspect', inspected[0].HostConfig.NetworkMode, '--format', '{{range .Containers}}{{.Name}}={{.IPv4Address}} {{end}}')
      .split(' ')
      .find((entry) => entry.startsWith('tsk-proxy-'))
      ?.split('=')[1]
      ?.split('/')[0];
    // The engine's resolver may forward only to the proxy, which answers no DNS.
    expect(inspected[0].HostConfig.Dns).toEqual([proxyAddress]);

    const result = await tsk.done;
    expect(result.exitCode, result.stderr).toBe(0);
    // The agent's output is on stdout.
    const checks = Object.fromEntries(result.stdout.split('\n').filter((line) => line.startsWith('CHECK ')).map((line) => [line.split(' ')[1], line.split(' ').slice(2)]));
    expect(checks.getent?.[0]).not.toBe('0');
    expect(checks.mirror?.[0]).not.toBe('0');
    // It fails at once: nothing to wait for.
    expect(Number(checks.getent?.[1])).toBeLessThan(2000);
    expect(checks.direct?.[0]).toBe('none');
    expect(dns.names.filter((seen) => seen.includes(tag) || seen === 'deb.debian.org')).toEqual([]);
  });
});
