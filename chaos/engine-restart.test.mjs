// The engine-restart step on a stand-in daemon (a node process), never on the real engine: the suite's
// own test of stop-by-recorded-pid, start-again-the-same-way, new pid recorded, wait-until-it-answers.
// Run: node --test chaos/
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { alive, engineRestartAllowed, restartDaemon } from './engine-restart.mjs';

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
