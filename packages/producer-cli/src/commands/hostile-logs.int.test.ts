import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectRedis, LOG_LIMITS, lineCutMarker, logCutLine } from '@tsk/engine';
// Where tsk keeps a task's log: the one door into the queue's internals.
import { QueueKeys } from '../../../engine/src/test-utils/queue-internals.js';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
// Test-only helper shared with the engine's queue tests (one way to start tsk's Redis image).
import { startTestRedis, type TestRedis } from '../../../engine/src/test-utils/redis-container.js';
import { startServer, stopProcess, type WatchedProcess } from '../test-utils/queue-processes.js';
import { makeTskHome, runTsk, TSK_BIN, type TskHome } from '../test-utils/run-tsk.js';
import { containersOf, makeSimpleRepo } from '../test-utils/simple-repo.js';

/**
 * The hostile-agent suite's log test: an agent that prints a line without end, terminal control and more
 * output than a task may keep, run by a real worker process on a real Redis. Without the defences:
 * - the 256 MiB line with no newline is held whole by the worker (and re-copied at every chunk, so the task
 *   would not even finish in the test's time): its peak memory grows by hundreds of MiB;
 * - the 20 MiB of 4 KiB lines stays whole in the Redis stream (5,120 entries, under its 10,000-entry trim)
 *   and in the worker's file, both far above 8 MiB;
 * - `tsk logs` prints the 160 KiB line whole (no cut marker) and the escape sequences raw.
 */

const MiB = 1024 * 1024;
const { lineChars, taskBytes, tskReserveBytes } = LOG_LIMITS;
/** A line that no process may hold whole: 256 MiB, printed without a newline until it ends. */
const HUGE_LINE = 256 * MiB;
/** Enough over the task cap that the cap must act: 5,120 lines of 4 KiB (+ newline) = 20 MiB. */
const FLOOD_LINES = 5120;

const HOSTILE_SCRIPT = [
  // (a) ten times the log line length, no newline; then a line that is far too long to hold in memory.
  `head -c ${10 * lineChars} /dev/zero | tr '\\0' a`,
  `printf '\\n'`,
  `head -c ${HUGE_LINE} /dev/zero | tr '\\0' b`,
  `printf '\\n'`,
  // (b) a window title (OSC, BEL-ended), clear screen and colours (CSI), a raw CSI byte, an 8-bit CSI
  // (U+009B), NEL (U+0085), bidi override and isolate, a CR that would overwrite the line on a terminal.
  `printf 'esc:\\033]0;pwned\\007\\033[2J\\033[31mred\\033[0m \\233raw \\302\\23331m c1 \\302\\205 \\342\\200\\256bidi\\342\\201\\246iso\\rhidden\\n'`,
  // (c) 20 MiB of output in 4 KiB lines.
  `line=$(head -c 4095 /dev/zero | tr '\\0' c)`,
  `yes "$line" | head -n ${FLOOD_LINES}`,
  // (d) a result: the task goes on after its log was cut.
  'echo done > hostile.txt',
].join('\n');

/** Bytes that act on a terminal: ESC, BEL, CSI as a byte. */
const CONTROL_BYTES = [0x1b, 0x07, 0x9b];
/** Characters that act on a terminal (TAB and LF aside). */
const CONTROL_CHARS = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/;

interface TaskJson {
  id: string;
  status: string;
  branch: string | null;
  error: string | null;
  summary: string | null;
  name: string;
  worker: string | null;
}

let redis: TestRedis;
let connection: Redis;
let home: TskHome;
let root: string;
let repo: string;
const keys = new QueueKeys();
const processes: WatchedProcess[] = [];

beforeAll(async () => {
  redis = await startTestRedis();
  connection = await connectRedis({ url: redis.url(), purpose: 'cli' });
  home = await makeTskHome({ TSK_REDIS_URL: redis.url() });
  root = mkdtempSync(join(tmpdir(), 'tsk-hostile-logs-'));
  repo = makeSimpleRepo(join(root, 'repo'));
});

afterEach(async () => {
  for (const process_ of processes.splice(0)) await stopProcess(process_);
});

afterAll(async () => {
  connection?.disconnect();
  await redis?.stop();
  await home?.cleanup();
  if (root) rmSync(root, { recursive: true, force: true });
});

const tsk = (args: string[]) => runTsk(args, { env: home.env, cwd: repo });

async function tskJson<T>(args: string[]): Promise<T> {
  const result = await tsk([...args, '--json']);
  expect(result.exitCode, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as T;
}

/** `tsk <args>`'s stdout and stderr as the bytes a terminal would get, whatever its exit code. */
function tskBytes(args: string[]): Promise<{ stdout: Buffer; stderr: Buffer }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [TSK_BIN, ...args], { env: home.env, cwd: repo, encoding: 'buffer', maxBuffer: 64 * MiB }, (_error, stdout, stderr) =>
      resolve({ stdout, stderr }),
    );
  });
}

function expectTerminalSafe(what: string, bytes: Buffer): void {
  for (const byte of CONTROL_BYTES) expect(bytes.indexOf(byte), `${what} has byte 0x${byte.toString(16)}`).toBe(-1);
  expect(bytes.toString('utf8'), what).not.toMatch(CONTROL_CHARS);
}

/** Peak and current resident memory of a process, in bytes (Linux). */
function memoryOf(pid: number): { peak: number; now: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status)?.[1]) * 1024;
  return { peak: kb('VmHWM'), now: kb('VmRSS') };
}

async function addAndWait(name: string, prompt: string): Promise<TaskJson> {
  const [added] = await tskJson<TaskJson[]>(['add', '--agent', 'script', '-n', name, '-p', prompt]);
  if (!added) throw new Error('tsk add printed no task');
  const waited = await tsk(['wait', added.id, '--json']);
  const [ended] = JSON.parse(waited.stdout) as TaskJson[];
  if (!ended) throw new Error(`tsk wait printed nothing: ${waited.stderr}`);
  return ended;
}

describe('hostile agent output (built CLI, real worker process, real Redis, real Docker)', () => {
  it('keeps worker memory, the Redis stream and the log file under their caps, and tsk logs free of terminal control', async () => {
    const server = startServer(['-w', '1'], home.env);
    processes.push(server);
    await server.waitFor(/ready/);
    // The same steps as the hostile task (workspace, image, sandbox, result) with ordinary output: what
    // the worker needs anyway.
    const warm = await addAndWait('warm-up', 'echo warm > warm.txt');
    expect(warm.status, warm.error ?? '').toBe('COMPLETE');
    const before = memoryOf(server.pid);

    const task = await addAndWait('hostile', HOSTILE_SCRIPT);
    const after = memoryOf(server.pid);
    console.log(`worker memory: peak ${(before.peak / MiB).toFixed(0)} → ${(after.peak / MiB).toFixed(0)} MiB, now ${(after.now / MiB).toFixed(0)} MiB`);

    // The task went on to the end and delivered its result.
    expect(task.status, task.error ?? '').toBe('COMPLETE');
    expect(task.branch).toBe(`tsk/generic/hostile/${task.id}`);
    expect(execFileSync('git', ['show', `${task.branch}:hostile.txt`], { cwd: repo, encoding: 'utf8' })).toBe('done\n');
    expect(containersOf(task.id)).toBe('');

    // Holding the 256 MiB line (let alone copying it) needs at least 256 MiB more than the warm-up did.
    // What the worker holds is bounded: 2 raw lines of 1 MiB, and the 8 MiB of log on its way to Redis
    // and the file (as strings, as Redis commands, as file writes: up to four copies at once). 10 to 45
    // MiB more were measured, depending on the garbage collector; 128 MiB is half of what the line alone
    // would take.
    expect(after.peak - before.peak).toBeLessThan(128 * MiB);

    // `tsk logs`: nothing that acts on a terminal; the text of the lines is there.
    const logs = await tskBytes(['logs', task.id]);
    expect(logs.stderr.toString()).toBe('');
    expectTerminalSafe('tsk logs', logs.stdout);
    const text = logs.stdout.toString('utf8');
    expect(text).toContain('a'.repeat(lineChars) + lineCutMarker(9 * lineChars));
    expect(text).toContain('b'.repeat(lineChars) + lineCutMarker(HUGE_LINE - lineChars));
    expect(text).toContain('esc:red \ufffdraw  c1  bidiisohidden\n');
    expect(text).toContain(`Warning: ${logCutLine()}`);
    expect(text.split(logCutLine())).toHaveLength(2);
    // tsk's own lines after the cut still reach the log.
    expect(text.slice(text.indexOf(logCutLine()))).toContain('[tsk] ');

    // Redis: the stream holds no more than the cap, in bytes and in memory.
    const entries = (await connection.xrange(keys.log(task.id), '-', '+')) as [string, string[]][];
    const streamBytes = entries.reduce((sum, [, fields]) => sum + fields.reduce((n, field) => n + Buffer.byteLength(field), 0), 0);
    const memory = Number(await connection.call('MEMORY', 'USAGE', keys.log(task.id), 'SAMPLES', '0'));
    console.log(`redis log stream: ${entries.length} entries, ${(streamBytes / MiB).toFixed(2)} MiB of fields, MEMORY USAGE ${(memory / MiB).toFixed(2)} MiB`);
    expect(streamBytes).toBeLessThan(taskBytes + tskReserveBytes);
    // Redis stores each 4 KiB entry in a node of its own, allocated in jemalloc's size classes (up to a
    // quarter more than asked for): 1.25 times the text and 1 MiB of bookkeeping. The 20 MiB the agent
    // printed would take more than twice that.
    expect(memory).toBeLessThan((taskBytes + tskReserveBytes) * 1.25 + MiB);
    expectTerminalSafe('the Redis stream', Buffer.from(entries.flatMap(([, fields]) => fields).join('\n')));

    // The worker's file: the same cap.
    const file = join(home.env.TSK_DATA_HOME ?? '', 'tsk', 'logs', `${task.id}.log`);
    console.log(`log file: ${(statSync(file).size / MiB).toFixed(2)} MiB`);
    expect(statSync(file).size).toBeLessThan(taskBytes + tskReserveBytes);
    expectTerminalSafe('the log file', readFileSync(file));
  });

  it('prints what a hostile Redis holds without terminal control: logs, list, list --json, wait', async () => {
    // No worker: the task is queued, then cancelled, and its record and log rewritten as anyone with
    // access to Redis could.
    const [added] = await tskJson<TaskJson[]>(['add', '--agent', 'script', '-n', 'victim', '-p', 'true']);
    if (!added) throw new Error('tsk add printed no task');
    expect((await tsk(['cancel', added.id])).exitCode).toBe(0);
    const hostile = (label: string) => `${label}\x1b]0;pwned\x07\x1b[2J\x9b31m\u202e\r\nAbc_0000 COMPLETE`;
    await connection.hset(keys.task(added.id), { name: hostile('name'), worker: hostile('worker'), branch: hostile('branch'), error: hostile('error') });
    // Without the end marker the cancel wrote: `tsk logs` reads up to it.
    await connection.del(keys.log(added.id));
    await connection.xadd(keys.log(added.id), '*', 's', 'agent', 'l', hostile('line'));
    await connection.xadd(keys.log(added.id), '*', 's', 'tsk', 'l', hostile('tsk'));

    const logs = await tskBytes(['logs', added.id]);
    expectTerminalSafe('tsk logs', logs.stdout);
    // An LF in an entry starts a new line that keeps the entry's prefix.
    expect(logs.stdout.toString('utf8')).toContain('[tsk] tsk\n[tsk] Abc_0000 COMPLETE\n');

    const list = await tskBytes(['list']);
    expectTerminalSafe('tsk list', list.stdout);
    expect(list.stdout.toString('utf8')).toContain('name Abc_0000 COMPLETE');
    const wait = await tskBytes(['wait', added.id]);
    expectTerminalSafe('tsk wait', wait.stdout);
    expect(wait.stdout.toString('utf8')).toContain(`${added.id} CANCELLED in -: branch branch Abc_0000 COMPLETE`);
    for (const args of [['wait', added.id, '--json'], ['list', '--json']]) {
      const json = await tskBytes(args);
      expectTerminalSafe(`tsk ${args.join(' ')}`, json.stdout);
      // Escaped, not lost: the JSON still says exactly what Redis holds.
      const listed = (JSON.parse(json.stdout.toString('utf8')) as TaskJson[]).find((task) => task.id === added.id);
      expect(listed?.worker).toBe(hostile('worker'));
    }
  });
});
