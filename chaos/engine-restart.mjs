// Restarting a Docker engine that the test set-up started itself (scripts/setup.sh: `nohup dockerd`, its
// pid in .tsk-dev/dockerd.pid; or any engine whose pid file TSK_CHAOS_ENGINE_PIDFILE names, such as a
// private engine of one's own that DOCKER_HOST points at): stop it by that pid, wait until it and the
// processes it started (its containerd) are gone, start it again with the command line it was started
// with, record the new pid, wait until it answers. Never used on an engine the suite did not start
// (TSK_CHAOS_ENGINE_RESTART=1, which .ci/run sets only then): a shared engine restarted under other
// users' feet loses their work.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Whether `pid` names a live process (signal 0 only checks); a zombie counts as gone. */
export function alive(pid) {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if (error.code !== 'EPERM') return false;
  }
  return processState(pid) !== 'Z';
}

/** The state letter of /proc/<pid>/stat (R, S, Z, …), or undefined where there is no /proc. */
function processState(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return undefined;
  }
}

/** Whether the suite may restart the engine: only when the set-up says it started it itself. */
export function engineRestartAllowed(env = process.env) {
  return env.TSK_CHAOS_ENGINE_RESTART === '1';
}

/** Where the engine's pid is recorded, and where its output goes when the suite starts it again. */
export function engineFiles(root, env = process.env) {
  const pidFile = env.TSK_CHAOS_ENGINE_PIDFILE || join(root, '.tsk-dev', 'dockerd.pid');
  return { pidFile, logFile: env.TSK_CHAOS_ENGINE_LOG || pidFile.replace(/\.pid$/, '') + '.log' };
}

/** `docker info` answers: the engine (DOCKER_HOST's, else the default one) is up. */
export function dockerAnswers() {
  return spawnSync('docker', ['info'], { stdio: 'ignore', timeout: 20_000 }).status === 0;
}

/** The command line `pid` was started with (/proc/<pid>/cmdline), or undefined. */
export function commandLineOf(pid) {
  try {
    const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    if (args.at(-1) === '') args.pop();
    return args.length > 0 ? args : undefined;
  } catch {
    return undefined;
  }
}

/** The pids whose parent is `pid` (from /proc): a dockerd's own containerd, which must be gone before the next dockerd starts its own. */
export function childrenOf(pid) {
  const children = [];
  let entries = [];
  try {
    entries = readdirSync('/proc');
  } catch {
    return children;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) children.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return children;
}

/**
 * The command that starts `argv` in the network namespace `pid` runs in: as is when that is this
 * process's own, else under `nsenter --net=/run/netns/<name>` of the named namespace (`ip netns add`)
 * that is the same. An engine in a namespace of its own must never come back in the host's: a dockerd
 * with `--bridge=none` or its own `--default-address-pool` deletes the host's `docker0` when it starts.
 *
 * @throws when `pid` runs in another namespace that has no name to enter it by again.
 */
export function inNetworkNamespaceOf(pid, argv, { netnsDir = '/run/netns' } = {}) {
  let theirs;
  let ours;
  try {
    theirs = statSync(`/proc/${pid}/ns/net`);
    ours = statSync('/proc/self/ns/net');
  } catch {
    return argv; // no /proc: nothing to tell
  }
  if (theirs.ino === ours.ino && theirs.dev === ours.dev) return argv;
  let names = [];
  try {
    names = readdirSync(netnsDir);
  } catch {
    // none named
  }
  for (const name of names) {
    try {
      const named = statSync(join(netnsDir, name));
      // nsenter, not `ip netns exec`: that one also remounts /sys, and a dockerd then finds no cgroups.
      if (named.ino === theirs.ino && named.dev === theirs.dev) return ['nsenter', `--net=${join(netnsDir, name)}`, '--', ...argv];
    } catch {
      // gone meanwhile
    }
  }
  throw new Error(`pid ${pid} runs in a network namespace of its own with no name under ${netnsDir}: it could not be started again in it (start it with \`nsenter --net=/run/netns/<name>\`)`);
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
 * Stop the daemon recorded in `pidFile` (SIGTERM, then wait for it and the processes it started to exit),
 * start `command` (by default the command line the daemon was started with, in its network namespace) again detached with its
 * output appended to `logFile` (as setup.sh's `nohup dockerd >log 2>&1 &`), write its pid to `pidFile`,
 * and wait until `ready()` says it answers. Returns the old and new pid and how long the daemon was away.
 */
export async function restartDaemon({ pidFile, logFile, command, ready = dockerAnswers, stopTimeoutMs = 90_000, readyTimeoutMs = 90_000, pollMs = 250 }) {
  const oldPid = readPid(pidFile);
  if (!alive(oldPid)) throw new Error(`the daemon of ${pidFile} (pid ${oldPid}) is not running`);
  const argv = command ?? inNetworkNamespaceOf(oldPid, commandLineOf(oldPid) ?? ['dockerd']);
  // Its containerd (dockerd starts one under its exec root unless told of another): a new dockerd that
  // finds the old one still shutting down fails to start its own.
  const helpers = childrenOf(oldPid);
  const stoppedAt = Date.now();
  process.kill(oldPid, 'SIGTERM');
  const deadline = Date.now() + stopTimeoutMs;
  for (; alive(oldPid); await sleep(pollMs)) {
    if (Date.now() > deadline) throw new Error(`pid ${oldPid} still running ${stopTimeoutMs} ms after SIGTERM`);
  }
  for (; helpers.some(alive); await sleep(pollMs)) {
    if (Date.now() > deadline) throw new Error(`pids ${helpers.filter(alive).join(', ')} started by ${oldPid} still running ${stopTimeoutMs} ms after it was told to stop`);
  }
  const out = openSync(logFile, 'a');
  const child = spawn(argv[0], argv.slice(1), { detached: true, stdio: ['ignore', out, out] });
  closeSync(out);
  let exited = false;
  child.once('exit', () => (exited = true));
  child.once('error', () => (exited = true));
  // An engine that must outlive this process: stop-dev-services.sh stops it by the pid recorded here.
  child.unref();
  const newPid = child.pid;
  if (newPid === undefined) throw new Error(`could not start ${argv[0]}`);
  writeFileSync(pidFile, `${newPid}\n`);
  for (const readyBy = Date.now() + readyTimeoutMs; ; await sleep(pollMs)) {
    if (await ready()) break;
    if (exited || !alive(newPid)) throw new Error(`${argv[0]} (pid ${newPid}) exited before it answered; see ${logFile}`);
    if (Date.now() > readyBy) throw new Error(`${argv[0]} (pid ${newPid}) did not answer within ${readyTimeoutMs} ms; see ${logFile}`);
  }
  return { oldPid, newPid, downMs: Date.now() - stoppedAt, command: argv };
}
