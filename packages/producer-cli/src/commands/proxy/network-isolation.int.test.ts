import { execFile, execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { assetsRoot, DEFAULT_BASE_IMAGE, lockDomain, planProxyImage, proxyFingerprint } from '@tsk/engine';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeSimpleRepo } from '../../test-utils/simple-repo.js';
import { makeTskHome, runTsk, startTsk, type TskHome, type TskProcess } from '../../test-utils/run-tsk.js';

// Network rules of these tests: traffic goes only to loopback, to the networks tsk creates for the test
// (the task network, its gateway, the proxy) and, through the proxy, to the one allowlisted host
// deb.debian.org. Isolation is shown with names that must not resolve, the proxy's own 403 for
// names it must not contact, and services this test runs on the host.

const PROJECT = `tsk-proxy-test-${randomUUID().slice(0, 8)}`;

function docker(...args: string[]): string {
  return execFileSync('docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

function dockerLines(...args: string[]): string[] {
  return docker(...args).split('\n').filter(Boolean);
}

/** Containers and networks carrying tsk's label for one proxy fingerprint. */
function proxyObjects(fingerprint: string): { containers: string[]; networks: string[] } {
  const filter = `label=tsk.proxy=${fingerprint}`;
  return {
    containers: dockerLines('ps', '-a', '--filter', filter, '--format', '{{.Names}}'),
    networks: dockerLines('network', 'ls', '--filter', filter, '--format', '{{.Name}}').sort(),
  };
}

function removeProxyObjects(fingerprint: string): void {
  const { containers, networks } = proxyObjects(fingerprint);
  for (const container of containers) docker('rm', '-f', container);
  for (const network of networks) {
    for (const member of dockerLines('network', 'inspect', network, '--format', '{{range .Containers}}{{.Name}}\n{{end}}')) {
      docker('rm', '-f', member);
    }
    docker('network', 'rm', network);
  }
}

/** An HTTP service of "the Docker host", by default bound to every address like a careless dev server. */
async function hostService(body: string, host = '0.0.0.0'): Promise<{ server: Server; port: number }> {
  const server = createServer((_request, response) => response.end(body));
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, host, resolve));
  return { server, port: (server.address() as { port: number }).port };
}

/** The addresses something listens on at `port` on this host (IPv4, from the kernel's socket table). */
function listenersOn(port: number): string[] {
  const suffix = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  return readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields[3] === '0A' && fields[1]?.endsWith(suffix))
    .map((fields) => (fields[1]!.slice(0, 8).match(/../g) ?? []).reverse().map((octet) => parseInt(octet, 16)).join('.'))
    .sort();
}

/** The host's address on Docker's default bridge, docker0 (a network the engine made). */
function docker0Address(): string {
  const address = /inet (\d+\.\d+\.\d+\.\d+)\//.exec(execFileSync('ip', ['-4', 'addr', 'show', 'docker0'], { encoding: 'utf8' }))?.[1];
  if (!address) throw new Error('docker0 has no IPv4 address');
  return address;
}

/** A running `tsk run` and the id of its task, read from its log. */
interface RunningTask {
  tsk: TskProcess;
  id: Promise<string>;
}

/** Results the probe script prints as `CHECK <name> <value>` lines. */
function checks(stderr: string): Record<string, string> {
  const lines = stderr.split('\n').filter((line) => line.startsWith('CHECK '));
  return Object.fromEntries(lines.map((line) => {
    const [, name = '', ...value] = line.split(' ');
    return [name, value.join(' ')];
  }));
}

/** Write a file into a running sandbox (as its user): how the test hands over what only it knows. */
function putFile(taskId: string, path: string, content: string): void {
  execFileSync('docker', ['exec', '-i', '-u', 'agent', `tsk-${taskId}`, 'sh', '-c', `cat > ${path}.tmp && mv ${path}.tmp ${path}`], {
    input: content,
  });
}

function gatewayOf(network: string): string {
  return docker('network', 'inspect', network, '--format', '{{(index .IPAM.Config 0).Gateway}}');
}

/** Wait for a file the test writes into the sandbox, then source it. */
const WAIT_FOR_ENV = 'echo WAITING-FOR-TEST\nfor i in $(seq 1 1200); do [ -s /tmp/probe.env ] && break; sleep 0.1; done\n. /tmp/probe.env\n';

describe('network isolation (tsk run, real Docker)', () => {
  let home: TskHome;
  let root: string;
  let repo: string;
  let defaultConf: string;
  let proxyImage: string;
  const existingImages = new Set<string>();
  const fingerprints = new Set<string>();

  /** The fingerprint tsk (run by this user) gives the proxy of this configuration (remembered for cleanup). */
  function fingerprintFor(hostPorts: number[], squidConf?: string): string {
    const config = { hostPorts: [...hostPorts].sort((a, b) => a - b), squidConf: squidConf ?? defaultConf };
    const fingerprint = proxyFingerprint(config, proxyImage, lockDomain(join(home.dir, 'data', 'tsk', 'locks')));
    fingerprints.add(fingerprint);
    return fingerprint;
  }

  function writeUserConfig(lines: string[]): void {
    mkdirSync(join(home.dir, 'config', 'tsk'), { recursive: true });
    writeFileSync(join(home.dir, 'config', 'tsk', 'tsk.toml'), `[defaults]\n${lines.join('\n')}\n`);
  }

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

  beforeAll(async () => {
    home = await makeTskHome();
    root = mkdtempSync(join(tmpdir(), 'tsk-netiso-'));
    repo = makeSimpleRepo(join(root, 'repo'));
    const plan = await planProxyImage(join(assetsRoot(), 'squid'));
    defaultConf = plan.defaultSquidConf;
    proxyImage = plan.tag;
    for (const image of dockerLines('images', '--format', '{{.Repository}}:{{.Tag}}')) existingImages.add(image);
  });

  afterEach(() => {
    for (const fingerprint of fingerprints) removeProxyObjects(fingerprint);
  });

  afterAll(async () => {
    for (const fingerprint of fingerprints) removeProxyObjects(fingerprint);
    // Images this file built (the sandbox image of its project, the proxy image if it was new); one
    // still used by someone else's container stays.
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

  it('should keep an agent that tries to get out inside: only allowlisted hosts through the proxy, only forwarded host ports', async () => {
    const forwarded = await hostService(`forwarded-${randomUUID()}\n`);
    const other = await hostService('not-forwarded\n');
    try {
      // The services answer on the host itself: whatever the sandbox cannot reach is kept from it.
      expect(await (await fetch(`http://127.0.0.1:${other.port}/`)).text()).toBe('not-forwarded\n');
      writeUserConfig([`host_ports = [${forwarded.port}]`]);
      const fingerprint = fingerprintFor([forwarded.port]);
      const script = [
        'set +e',
        WAIT_FOR_ENV,
        'check() { printf "CHECK %s %s\\n" "$1" "$2"; }',
        'code() { curl -s -o /dev/null -w "%{http_code}" --max-time 30 "$@"; }',
        'status() { curl -s -o /dev/null --max-time 5 "$@"; echo $?; }',
        'check allowed_http "$(code -I http://deb.debian.org/debian/dists/bookworm/Release)"',
        'check denied_http "$(code http://example.com/)"',
        'check denied_http_by "$(curl -s -D - -o /dev/null --max-time 30 http://example.com/ | tr -d "\\r" | awk -F": " "tolower(\\$1)==\\"x-squid-error\\" {print \\$2}")"',
        'check denied_connect "$(curl -s -o /dev/null -w "%{http_connect}" --max-time 30 https://example.com/)"',
        // The sandbox resolves no outside name (dns-isolation.int.test.ts): these fail at once.
        '( check direct_by_name "$(curl -s -o /dev/null --max-time 60 --noproxy "*" http://deb.debian.org/; echo $?)" ) &',
        '( check dns_example "$(getent hosts example.com >/dev/null; echo $?)" ) &',
        '( check dns_allowlisted "$(getent hosts deb.debian.org >/dev/null; echo $?)" ) &',
        'check direct_to_egress "$(status --noproxy "*" http://$EGRESS_GATEWAY:$OTHER_PORT/)"',
        'check gateway "$(code --noproxy "*" --max-time 5 http://$GATEWAY:$OTHER_PORT/)"',
        'check proxy_port_3128 "$(code --noproxy "*" http://$TSK_PROXY_HOST:3128/)"',
        'for port in 22 80 443 3129 8080 $OTHER_PORT; do check "closed_$port" "$(status --noproxy "*" http://$TSK_PROXY_HOST:$port/)"; done',
        'check cap_eff "$(awk "/^CapEff/ {print \\$2}" /proc/self/status)"',
        'check cap_bnd "$(awk "/^CapBnd/ {print \\$2}" /proc/self/status)"',
        'check forwarded "$(curl -s --max-time 10 http://$TSK_PROXY_HOST:$FORWARDED_PORT/)"',
        'check proxy_env "$HTTP_PROXY $HTTPS_PROXY $http_proxy $https_proxy"',
        'wait',
      ].join('\n');
      const task = startTask('escape', script);
      await task.tsk.waitFor('WAITING-FOR-TEST');
      const id = await task.id;

      // The sandbox and its proxy are the only members of the task network.
      const network = `tsk-agent-${id}`;
      const members = dockerLines('network', 'inspect', network, '--format', '{{range .Containers}}{{.Name}}\n{{end}}').sort();
      expect(members).toEqual([`tsk-${id}`, `tsk-proxy-${fingerprint}`].sort());
      putFile(
        id,
        '/tmp/probe.env',
        [
          `GATEWAY=${gatewayOf(network)}`,
          `EGRESS_GATEWAY=${gatewayOf(`tsk-egress-${fingerprint}`)}`,
          `OTHER_PORT=${other.port}`,
          `FORWARDED_PORT=${forwarded.port}`,
          '',
        ].join('\n'),
      );
      const result = await task.tsk.done;
      expect(result.exitCode, result.stderr).toBe(0);
      const found = checks(result.stderr);

      expect(found.allowed_http).toBe('200');
      expect(found.denied_http).toBe('403');
      expect(found.denied_http_by).toBe('ERR_TSK_DENIED 0');
      expect(found.denied_connect).toBe('403');
      expect(found.direct_by_name).toBe('6'); // curl: could not resolve host
      expect(found.direct_to_egress).toMatch(/^(7|28)$/); // no route to the proxy's outside network
      expect(found.dns_example).not.toBe('0');
      expect(found.dns_allowlisted).not.toBe('0');
      expect(found.gateway).toBe('000');
      expect(found.proxy_port_3128).not.toBe('000');
      for (const port of [22, 80, 443, 3129, 8080, other.port]) expect(found[`closed_${port}`], `port ${port}`).toBe('7');
      const NET_ADMIN = 1n << 12n;
      const NET_RAW = 1n << 13n;
      for (const set of [found.cap_eff, found.cap_bnd]) {
        expect(BigInt(`0x${set}`) & (NET_ADMIN | NET_RAW)).toBe(0n);
      }
      expect(found.forwarded).toMatch(/^forwarded-/);
      expect(found.proxy_env).toBe(Array(4).fill('http://tsk-proxy:3128').join(' '));
      expect(proxyObjects(fingerprint)).toEqual({ containers: [], networks: [] });
    } finally {
      forwarded.server.close();
      other.server.close();
    }
  });

  it('should reach host services on 127.0.0.1, on docker0 and on 0.0.0.0 through host_ports, nothing unlisted, and only from the proxy', async () => {
    const docker0 = docker0Address();
    const token = randomUUID();
    const loopback = await hostService(`loopback-${token}\n`, '127.0.0.1');
    const onDocker0 = await hostService(`docker0-${token}\n`, docker0);
    const everywhere = await hostService(`everywhere-${token}\n`);
    const unlisted = await hostService(`unlisted-${token}\n`, '127.0.0.1');
    const listed = [loopback.port, onDocker0.port, everywhere.port];
    const probeNetwork = `tsk-test-probe-${token.slice(0, 8)}`;
    try {
      writeUserConfig([`host_ports = [${listed.join(', ')}]`]);
      const fingerprint = fingerprintFor(listed);
      const script = [
        'set +e',
        WAIT_FOR_ENV,
        'check() { printf "CHECK %s %s\\n" "$1" "$2"; }',
        'get() { curl -s --max-time 10 --noproxy "*" "http://$TSK_PROXY_HOST:$1/"; }',
        'check loopback "$(get $LOOPBACK_PORT)"',
        'check docker0 "$(get $DOCKER0_PORT)"',
        'check everywhere "$(get $EVERYWHERE_PORT)"',
        'check unlisted "$(curl -s -o /dev/null --max-time 5 --noproxy "*" http://$TSK_PROXY_HOST:$UNLISTED_PORT/; echo $?)"',
        'echo WAITING-TO-END',
        'while [ ! -e /tmp/end ]; do sleep 0.2; done',
      ].join('\n');
      const task = startTask('host-loopback', script);
      await task.tsk.waitFor('WAITING-FOR-TEST');
      const id = await task.id;
      const egressGateway = gatewayOf(`tsk-egress-${fingerprint}`);
      putFile(
        id,
        '/tmp/probe.env',
        [
          `LOOPBACK_PORT=${loopback.port}`,
          `DOCKER0_PORT=${onDocker0.port}`,
          `EVERYWHERE_PORT=${everywhere.port}`,
          `UNLISTED_PORT=${unlisted.port}`,
          '',
        ].join('\n'),
      );
      await task.tsk.waitFor('WAITING-TO-END');

      // While the task runs, tsk listens on the egress network's gateway for the two ports only it can
      // serve there; the 0.0.0.0 service already answers on its own, and the unlisted port gets nothing.
      expect(listenersOn(loopback.port)).toEqual(['127.0.0.1', egressGateway].sort());
      expect(listenersOn(onDocker0.port)).toEqual([docker0, egressGateway].sort());
      expect(listenersOn(everywhere.port)).toEqual(['0.0.0.0']);
      expect(listenersOn(unlisted.port)).toEqual(['127.0.0.1']);

      // A container on another network of the host reaches the gateway address too, but tsk's forwarder
      // serves only the proxy's network: it gets nothing from the loopback service, while the service
      // bound to 0.0.0.0 (open to every container by its own choice) shows that the probe gets through.
      docker('network', 'create', probeNetwork);
      // (Asynchronously: the services run in this process and must answer meanwhile.)
      const probe = async (port: number) => {
        const request = `exec 3<>/dev/tcp/${egressGateway}/${port} || exit 0; printf 'GET / HTTP/1.0\\r\\n\\r\\n' >&3; timeout 10 cat <&3 || true`;
        // tsk's default base image: the one image every machine that runs these tests has (setup builds it).
        const run = ['run', '--rm', '--network', probeNetwork, process.env.TSK_BASE_IMAGE ?? DEFAULT_BASE_IMAGE, 'bash', '-c', request];
        return (await promisify(execFile)('docker', run, { encoding: 'utf8' })).stdout;
      };
      expect(await probe(everywhere.port)).toContain(`everywhere-${token}`);
      expect(await probe(loopback.port)).not.toContain(token);

      putFile(id, '/tmp/end', 'now');
      const result = await task.tsk.done;
      expect(result.exitCode, result.stderr).toBe(0);
      expect(checks(result.stderr)).toMatchObject({
        loopback: `loopback-${token}`,
        docker0: `docker0-${token}`,
        everywhere: `everywhere-${token}`,
        unlisted: '7', // refused by the proxy: not forwarded
      });
      // After the task its forwarders are gone: only the services themselves listen.
      expect(listenersOn(loopback.port)).toEqual(['127.0.0.1']);
      expect(listenersOn(onDocker0.port)).toEqual([docker0]);
      expect(proxyObjects(fingerprint)).toEqual({ containers: [], networks: [] });
    } finally {
      for (const service of [loopback, onDocker0, everywhere, unlisted]) service.server.close();
      try {
        docker('network', 'rm', probeNetwork);
      } catch {
        // never created
      }
    }
  });

  it('should let a custom squid_conf that allows one domain deny every other, default-allowlisted ones included', async () => {
    const squidConf = [
      `# only the Debian mirror (${randomUUID()})`,
      'http_port 3128',
      'acl only_debian dstdomain -n deb.debian.org',
      'acl Safe_ports port 80 443',
      'acl SSL_ports port 443',
      'acl CONNECT method CONNECT',
      'http_access deny !Safe_ports',
      'http_access deny CONNECT !SSL_ports',
      'http_access allow only_debian',
      'http_access deny all',
      'cache deny all',
      '',
    ].join('\n');
    writeUserConfig([`squid_conf = '''\n${squidConf}'''`]);
    const fingerprint = fingerprintFor([], squidConf);
    const script = [
      'set +e',
      'check() { printf "CHECK %s %s\\n" "$1" "$2"; }',
      'code() { curl -s -o /dev/null -w "%{http_code}" --max-time 30 "$@"; }',
      'check debian "$(code -I http://deb.debian.org/debian/dists/bookworm/Release)"',
      'check npm "$(code http://registry.npmjs.org/)"',
      'check github_connect "$(curl -s -o /dev/null -w "%{http_connect}" --max-time 30 https://github.com/)"',
      'check example "$(code http://example.com/)"',
      'echo WAITING-TO-END',
      'while [ ! -e /tmp/end ]; do sleep 0.2; done',
    ].join('\n');
    const task = startTask('custom-squid', script);
    await task.tsk.waitFor('WAITING-TO-END');
    // The proxy runs exactly this configuration: its name is the fingerprint of this squid.conf.
    expect(proxyObjects(fingerprint).containers).toEqual([`tsk-proxy-${fingerprint}`]);
    putFile(await task.id, '/tmp/end', 'now');
    const result = await task.tsk.done;
    expect(result.exitCode, result.stderr).toBe(0);
    expect(checks(result.stderr)).toMatchObject({ debian: '200', npm: '403', github_connect: '403', example: '403' });
  });

  it('should build a task’s image behind its proxy: a setup line reaches the allowlist, nothing else', async () => {
    // What the project layer's RUN lines can reach, written into the image for the task to report. The
    // marker makes the image (and so the build) this test's own.
    const probe = [
      `# ${randomUUID()}\n`,
      'RUN (curl -s -o /dev/null -w "allowed=%{http_code}\\n" --max-time 30 -I http://deb.debian.org/debian/dists/bookworm/Release;',
      ' curl -s -o /dev/null -w "denied=%{http_code}\\n" --max-time 30 http://example.com/;',
      ' curl -s -o /dev/null --max-time 10 --noproxy "*" http://deb.debian.org/; echo "direct=$?";',
      ' getent hosts deb.debian.org >/dev/null && echo dns=resolved || echo dns=none) > /build-probe.txt',
    ].join('');
    writeUserConfig([`setup = '''\n${probe}\n'''`]);
    fingerprintFor([]);
    const result = await startTask('build-probe', 'cat /build-probe.txt').tsk.done;
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stderr).toContain('Building image');
    // With --json, every log line (the agent's included) is on stderr.
    const lines = result.stderr.split('\n').filter((line) => /^(allowed|denied|direct|dns)=/.test(line));
    // Through Squid to the allowlist only (403 is Squid's answer), and no way around it: no name, no route.
    expect(lines).toEqual(['allowed=200', 'denied=403', expect.stringMatching(/^direct=(6|7|28)$/), 'dns=none']);
  });

  it('should share one proxy between two tasks with the same configuration, and remove it with its networks after both end', async () => {
    // A port of its own (nothing listens there): this test's proxy is nobody else's.
    const port = 40000 + Math.floor(Math.random() * 20000);
    writeUserConfig([`host_ports = [${port}]`]);
    const fingerprint = fingerprintFor([port]);
    const script = 'echo WAITING-TO-END\nwhile [ ! -e /tmp/end ]; do sleep 0.2; done';
    const tasks = [startTask('share-a', script), startTask('share-b', script)];
    await Promise.all(tasks.map((task) => task.tsk.waitFor('WAITING-TO-END')));
    const ids = await Promise.all(tasks.map((task) => task.id));

    const { containers, networks } = proxyObjects(fingerprint);
    expect(containers).toEqual([`tsk-proxy-${fingerprint}`]);
    expect(networks).toEqual([`tsk-agent-${ids[0]}`, `tsk-agent-${ids[1]}`, `tsk-egress-${fingerprint}`].sort());
    const attached = docker('inspect', `tsk-proxy-${fingerprint}`, '--format', '{{range $name, $_ := .NetworkSettings.Networks}}{{$name}} {{end}}');
    expect(attached.trim().split(' ').sort()).toEqual(networks);

    // Both end at the same moment.
    ids.forEach((id) => putFile(id, '/tmp/end', 'now'));
    const results = await Promise.all(tasks.map((task) => task.tsk.done));
    for (const result of results) expect(result.exitCode, result.stderr).toBe(0);
    expect(proxyObjects(fingerprint)).toEqual({ containers: [], networks: [] });
  });

  it('should keep a loopback host port forwarded for a task whose tsk process outlives the one that forwarded it first', async () => {
    const token = randomUUID();
    const service = await hostService(`shared-${token}\n`, '127.0.0.1');
    try {
      writeUserConfig([`host_ports = [${service.port}]`]);
      const fingerprint = fingerprintFor([service.port]);
      const script = [
        'set +e',
        'check() { printf "CHECK %s %s\\n" "$1" "$2"; }',
        // Retried: when the process that forwarded first ends, the other one takes the port over within a second.
        `get() { for i in $(seq 1 40); do out=$(curl -s --max-time 5 --noproxy "*" http://$TSK_PROXY_HOST:${service.port}/); [ -n "$out" ] && break; sleep 0.25; done; echo "$out"; }`,
        'check before "$(get)"',
        'echo WAITING-TO-END',
        'while [ ! -e /tmp/end ]; do sleep 0.2; done',
        'check after "$(get)"',
      ].join('\n');
      // The first task's process forwards the port; the second finds it taken.
      const first = startTask('forward-a', script);
      await first.tsk.waitFor('WAITING-TO-END');
      const second = startTask('forward-b', script);
      await second.tsk.waitFor('WAITING-TO-END');
      const egressGateway = gatewayOf(`tsk-egress-${fingerprint}`);
      const marker = join(home.dir, 'data', 'tsk', 'locks', `host-port-${egressGateway}-${service.port}`);
      expect(readFileSync(marker, 'utf8')).toBe(`${hostname()}/${first.tsk.child.pid}\n`);

      putFile(await first.id, '/tmp/end', 'now');
      const firstResult = await first.tsk.done;
      expect(firstResult.exitCode, firstResult.stderr).toBe(0);
      putFile(await second.id, '/tmp/end', 'now');
      const secondResult = await second.tsk.done;
      expect(secondResult.exitCode, secondResult.stderr).toBe(0);

      expect(checks(firstResult.stderr)).toMatchObject({ before: `shared-${token}`, after: `shared-${token}` });
      expect(checks(secondResult.stderr)).toMatchObject({ before: `shared-${token}`, after: `shared-${token}` });
      expect(listenersOn(service.port)).toEqual(['127.0.0.1']);
      expect(() => readFileSync(marker)).toThrow(/ENOENT/);
      expect(proxyObjects(fingerprint)).toEqual({ containers: [], networks: [] });
    } finally {
      service.server.close();
    }
  });

  it('should let `tsk proxy stop` remove the proxy and network a killed tsk left behind, and nothing a task still uses', async () => {
    const squidConf = `${defaultConf}\n# killed tsk (${randomUUID()})\n`;
    writeUserConfig([`squid_conf = '''\n${squidConf}'''`]);
    const fingerprint = fingerprintFor([], squidConf);
    const task = startTask('killed', 'echo WAITING-TO-END\nwhile [ ! -e /tmp/end ]; do sleep 0.2; done');
    await task.tsk.waitFor('WAITING-TO-END');
    const id = await task.id;
    task.tsk.child.kill('SIGKILL');
    await task.tsk.done;

    // The orphaned sandbox still runs on the task network: its proxy is in use.
    const stop = async () => {
      const result = await runTsk(['proxy', 'stop', '--json'], { env: home.env });
      expect(result.exitCode, result.stderr).toBe(0);
      return JSON.parse(result.stdout) as { removedProxies: string[]; removedNetworks: string[]; inUse: string[] };
    };
    const busy = await stop();
    expect(busy.inUse).toContain(`tsk-proxy-${fingerprint}`);
    expect(busy.removedNetworks).not.toContain(`tsk-agent-${id}`);
    expect(proxyObjects(fingerprint).containers).toEqual([`tsk-proxy-${fingerprint}`]);

    // Once the sandbox is gone (reaped by a worker, or by hand), nothing is left using the proxy.
    docker('rm', '-f', `tsk-${id}`);
    const idle = await stop();
    expect(idle.removedProxies).toContain(`tsk-proxy-${fingerprint}`);
    expect(idle.removedNetworks).toContain(`tsk-agent-${id}`);
    expect(proxyObjects(fingerprint)).toEqual({ containers: [], networks: [] });
  });
});
