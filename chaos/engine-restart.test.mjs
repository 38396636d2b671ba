// The engine-restart step on a stand-in daemon (a node process), never on the real engine: the suite's
// own test of stop-by-recorded-pid, start-again-the-same-way, new pid recorded, wait-until-it-answers.
// Run: node --test chaos/
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { alive, engineFiles, engineRestartAllowed, inNetworkNamespaceOf, restartDaemon } from './engine-restart.mjs';

const dir = mkdtempSync(join(tmpdir(), 'tsk-chaos-restart-'));
const started = [];
after(() => {
  // Every daemon a test started, also one whose restart failed half-way (its pid is only in the file).
  for (const name of readdirSync(dir).filter((file) => file.endsWith('.pid'))) started.push(Number(readFileSync(join(dir, name), 'utf8')));
  for (const pid of started) if (Number.isInteger(pid) && pid > 1 && alive(pid)) process.kill(pid, 'SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** A daemon that writes `<dir>/ready-<pid>` once up and exits on SIGTERM after a short shutdown. */
const daemonScript = `
const { writeFileSync } = require('node:fs');
setTimeout(() => writeFileSync(${JSON.stringify(dir)} + '/ready-' + process.pid, ''), 300);
process.on('SIGTERM', () => setTimeout(() => process.exit(0), 200));
setInterval(() => {}, 1000);
`;
const command = [process.execPath, '-e', daemonScript];
const readyFile = (pid) => join(dir, `ready-${pid}`);

test('stops the recorded daemon, starts it again the same way, records and waits for the new one', async () => {
  const first = spawn(command[0], command.slice(1), { detached: true, stdio: 'ignore' });
  first.unref();
  started.push(first.pid);
  const pidFile = join(dir, 'dockerd.pid');
  writeFileSync(pidFile, `${first.pid}\n`);
  const result = await restartDaemon({
    pidFile,
    logFile: join(dir, 'dockerd.log'),
    command,
    // `ready` learns the new pid from the pid file, as anyone reading it would.
    ready: () => {
      const pid = Number(readFileSync(pidFile, 'utf8'));
      return pid !== first.pid && existsSync(readyFile(pid));
    },
    readyTimeoutMs: 10_000,
    stopTimeoutMs: 10_000,
    pollMs: 20,
  });
  started.push(result.newPid);
  assert.equal(result.oldPid, first.pid);
  assert.notEqual(result.newPid, first.pid);
  assert.equal(alive(first.pid), false);
  assert.equal(alive(result.newPid), true);
  assert.equal(readFileSync(pidFile, 'utf8').trim(), String(result.newPid));
});

test('waits for the new daemon to answer', async () => {
  const first = spawn(command[0], command.slice(1), { detached: true, stdio: 'ignore' });
  first.unref();
  started.push(first.pid);
  const pidFile = join(dir, 'dockerd-2.pid');
  writeFileSync(pidFile, `${first.pid}\n`);
  const result = await restartDaemon({
    pidFile,
    logFile: join(dir, 'dockerd-2.log'),
    command,
    ready: () => {
      const pid = Number(readFileSync(pidFile, 'utf8'));
      return pid !== first.pid && existsSync(readyFile(pid));
    },
    pollMs: 20,
  });
  started.push(result.newPid);
  assert.ok(existsSync(readyFile(result.newPid)), 'returned before the new daemon was ready');
});

test('refuses without a recorded pid, or when the recorded daemon is not running', async () => {
  await assert.rejects(restartDaemon({ pidFile: join(dir, 'none.pid'), logFile: join(dir, 'x.log'), command }), /no pid file/);
  const pidFile = join(dir, 'dead.pid');
  const gone = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => gone.on('exit', resolve));
  writeFileSync(pidFile, `${gone.pid}\n`);
  await assert.rejects(restartDaemon({ pidFile, logFile: join(dir, 'x.log'), command }), /is not running/);
  writeFileSync(pidFile, 'garbage\n');
  await assert.rejects(restartDaemon({ pidFile, logFile: join(dir, 'x.log'), command }), /not a pid/);
});

test('fails when the new daemon exits before it answers', async () => {
  const first = spawn(command[0], command.slice(1), { detached: true, stdio: 'ignore' });
  first.unref();
  started.push(first.pid);
  const pidFile = join(dir, 'crash.pid');
  writeFileSync(pidFile, `${first.pid}\n`);
  await assert.rejects(
    restartDaemon({ pidFile, logFile: join(dir, 'crash.log'), command: [process.execPath, '-e', 'process.exit(3)'], ready: () => false, pollMs: 20 }),
    /exited before it answered/,
  );
});

test('only when the set-up started the engine', () => {
  assert.equal(engineRestartAllowed({}), false);
  assert.equal(engineRestartAllowed({ TSK_CHAOS_ENGINE_RESTART: '0' }), false);
  assert.equal(engineRestartAllowed({ TSK_CHAOS_ENGINE_RESTART: '1' }), true);
});

/**
 * A daemon that, like dockerd with its containerd, starts a helper of its own; on SIGTERM the daemon exits
 * at once and the helper only a while later (its pid is written to `<dir>/helper-<daemon pid>`, and a
 * helper still running when the next daemon starts is written to `<dir>/overlap-<new daemon pid>`).
 */
const parentScript = `
const { spawn } = require('node:child_process');
const { readdirSync, readFileSync, writeFileSync } = require('node:fs');
const dir = ${JSON.stringify(dir)};
for (const name of readdirSync(dir).filter((file) => file.startsWith('helper-'))) {
  const pid = Number(readFileSync(dir + '/' + name, 'utf8'));
  // Running, not a zombie no one reaped yet.
  try { if (!/^\\S+ \\(.*\\) Z/.test(readFileSync('/proc/' + pid + '/stat', 'utf8'))) writeFileSync(dir + '/overlap-' + process.pid, String(pid)); } catch {}
}
const helper = spawn(process.execPath, ['-e', "process.on('SIGTERM', () => setTimeout(() => process.exit(0), 700)); require('node:fs').writeFileSync(process.argv[1], ''); setInterval(() => {}, 1000)", dir + '/armed-' + process.pid], { stdio: 'ignore' });
writeFileSync(dir + '/helper-' + process.pid, String(helper.pid));
setTimeout(() => writeFileSync(dir + '/ready-' + process.pid, ''), 200);
process.on('SIGTERM', () => { helper.kill('SIGTERM'); process.exit(0); });
setInterval(() => {}, 1000);
`;

test('starts the daemon again with the command line it was started with, once the processes it started are gone', async () => {
  const argv = [process.execPath, '-e', parentScript, '--', 'engine one'];
  const first = spawn(argv[0], argv.slice(1), { detached: true, stdio: 'ignore' });
  first.unref();
  started.push(first.pid);
  const pidFile = join(dir, 'same-way.pid');
  writeFileSync(pidFile, `${first.pid}\n`);
  // Until its helper minds SIGTERM (a helper stopped before that dies at once).
  for (let i = 0; i < 250 && !existsSync(join(dir, `armed-${first.pid}`)); i++) await new Promise((resolve) => setTimeout(resolve, 20));
  const helper = Number(readFileSync(join(dir, `helper-${first.pid}`), 'utf8'));
  started.push(helper);
  const result = await restartDaemon({
    pidFile,
    logFile: join(dir, 'same-way.log'),
    ready: () => {
      const pid = Number(readFileSync(pidFile, 'utf8'));
      return pid !== first.pid && existsSync(readyFile(pid));
    },
    pollMs: 20,
  });
  started.push(result.newPid);
  for (let i = 0; i < 100 && !existsSync(join(dir, `helper-${result.newPid}`)); i++) await new Promise((resolve) => setTimeout(resolve, 20));
  started.push(Number(readFileSync(join(dir, `helper-${result.newPid}`), 'utf8')));
  assert.deepEqual(result.command, argv);
  assert.equal(alive(helper), false, 'the old helper outlived the restart');
  assert.equal(existsSync(join(dir, `overlap-${result.newPid}`)), false, 'the new daemon started while the old one\'s helper still ran');
});

test('the pid file and log: the set-up\'s by default, or the ones the environment names', () => {
  assert.deepEqual(engineFiles('/repo', {}), { pidFile: '/repo/.tsk-dev/dockerd.pid', logFile: '/repo/.tsk-dev/dockerd.log' });
  assert.deepEqual(engineFiles('/repo', { TSK_CHAOS_ENGINE_PIDFILE: '/tmp/e/engine.pid' }), { pidFile: '/tmp/e/engine.pid', logFile: '/tmp/e/engine.log' });
  assert.deepEqual(engineFiles('/repo', { TSK_CHAOS_ENGINE_PIDFILE: '/tmp/e/engine.pid', TSK_CHAOS_ENGINE_LOG: '/tmp/e/out' }), { pidFile: '/tmp/e/engine.pid', logFile: '/tmp/e/out' });
});

// Network namespaces need root and util-linux/iproute2 (as the suite's engine restart does); skipped elsewhere.
const canNetns = process.getuid?.() === 0 && spawnSync('unshare', ['-n', 'true']).status === 0 && spawnSync('nsenter', ['--version']).status === 0 && spawnSync('ip', ['netns', 'list']).status === 0;

test('an engine in a network namespace of its own comes back in it, never in the host\'s', { skip: !canNetns && 'needs root, unshare, nsenter and ip netns' }, async () => {
  assert.deepEqual(inNetworkNamespaceOf(process.pid, ['dockerd', '-D']), ['dockerd', '-D']);
  const name = `tsk-chaos-test-${process.pid}`;
  assert.equal(spawnSync('ip', ['netns', 'add', name]).status, 0);
  const named = spawn('nsenter', [`--net=/run/netns/${name}`, 'sleep', '30'], { stdio: 'ignore' });
  const unnamed = spawn('unshare', ['-n', 'sleep', '30'], { stdio: 'ignore' });
  try {
    // Until both have entered their namespace (nsenter and unshare exec sleep once there).
    for (let i = 0; i < 250 && [named, unnamed].some((child) => !/^sleep/.test(readCmd(child.pid))); i++) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(inNetworkNamespaceOf(named.pid, ['dockerd', '-D']), ['nsenter', `--net=/run/netns/${name}`, '--', 'dockerd', '-D']);
    assert.throws(() => inNetworkNamespaceOf(unnamed.pid, ['dockerd']), /network namespace of its own with no name/);
  } finally {
    named.kill('SIGKILL');
    unnamed.kill('SIGKILL');
    spawnSync('ip', ['netns', 'delete', name]);
  }
});

function readCmd(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return '';
  }
}
