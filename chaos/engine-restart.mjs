// Restarting a Docker engine that the test set-up started itself (scripts/setup.sh: `nohup dockerd`, its
// pid in .tsk-dev/dockerd.pid): stop it by that pid, start it again the same way, record the new pid,
// wait until it answers. Never used on an engine the suite did not start (TSK_CHAOS_ENGINE_RESTART=1,
// which .ci/run sets only then): a shared engine restarted under other users' feet loses their work.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Whether `pid` names a live process (signal 0 only checks). */
export function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

/** Whether the suite may restart the engine: only when the set-up says it started it itself. */
export function engineRestartAllowed(env = process.env) {
  return env.TSK_CHAOS_ENGINE_RESTART === '1';
}

/** `docker info` answers: the engine is up. */
export function dockerAnswers() {
  return spawnSync('docker', ['info'], { stdio: 'ignore', timeout: 20_000 }).status === 0;
}

function readPid(pidFile) {
  let text;
  try {
    text = readFileSync(pidFile, 'utf8').trim();
  } catch {
    throw new Error(`no pid file ${pidFile}: the engine was not started by the set-up, so the suite must not restart it`);
  }
  const pid = Number(text);
  if (!Number.isInteger(pid) || pid <= 1) throw new Error(`pid file ${pidFile} holds "${text}", not a pid`);
  return pid;
}

/**
 * Stop the daemon recorded in `pidFile` (SIGTERM, then wait for it to exit), start `command` again
 * detached with its output appended to `logFile` (as setup.sh's `nohup dockerd >log 2>&1 &`), write its
 * pid to `pidFile`, and wait until `ready()` says it answers. Returns the old and new pid and how long the
 * daemon was away.
 */
export async function restartDaemon({ pidFile, logFile, command = ['dockerd'], ready = dockerAnswers, stopTimeoutMs = 90_000, readyTimeoutMs = 90_000, pollMs = 250 }) {
  const oldPid = readPid(pidFile);
  if (!alive(oldPid)) throw new Error(`the daemon of ${pidFile} (pid ${oldPid}) is not running`);
  const stoppedAt = Date.now();
  process.kill(oldPid, 'SIGTERM');
  for (const deadline = Date.now() + stopTimeoutMs; alive(oldPid); await sleep(pollMs)) {
    if (Date.now() > deadline) throw new Error(`pid ${oldPid} still running ${stopTimeoutMs} ms after SIGTERM`);
  }
  const out = openSync(logFile, 'a');
  const child = spawn(command[0], command.slice(1), { detached: true, stdio: ['ignore', out, out] });
  closeSync(out);
  let exited = false;
  child.once('exit', () => (exited = true));
  // An engine that must outlive this process: stop-dev-services.sh stops it by the pid recorded here.
  child.unref();
  const newPid = child.pid;
  if (newPid === undefined) throw new Error(`could not start ${command[0]}`);
  writeFileSync(pidFile, `${newPid}\n`);
  for (const deadline = Date.now() + readyTimeoutMs; ; await sleep(pollMs)) {
    if (await ready()) break;
    if (exited || !alive(newPid)) throw new Error(`${command[0]} (pid ${newPid}) exited before it answered; see ${logFile}`);
    if (Date.now() > deadline) throw new Error(`${command[0]} (pid ${newPid}) did not answer within ${readyTimeoutMs} ms; see ${logFile}`);
  }
  return { oldPid, newPid, downMs: Date.now() - stoppedAt };
}
