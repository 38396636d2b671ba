import { spawn } from 'node:child_process';
import { LOG_LIMITS } from '../logging/log-limits.js';
import { LineSplitter } from './line-splitter.js';

export interface RunProcessOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Written to the child's stdin, which is then closed. */
  input?: string | Buffer;
  signal?: AbortSignal;
  /**
   * Called with each non-empty line of stdout and stderr as it arrives (progress display); `\r` ends a
   * line too. Lines are cut to the log's line length.
   */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
}

export interface RunProcessResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Run a program without a shell and collect its output. Never rejects for a non-zero exit (callers turn
 * that into their own typed error); rejects only when the program cannot be started at all.
 */
export function runProcess(command: string, args: readonly string[], options: RunProcessOptions = {}): Promise<RunProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      signal: options.signal,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const { onLine } = options;
    const splitter = (stream: 'stdout' | 'stderr') =>
      onLine && new LineSplitter((line) => line.length > 0 && onLine(line, stream), { maxChars: LOG_LIMITS.lineChars, carriageReturn: 'break' });
    const lines = { stdout: splitter('stdout'), stderr: splitter('stderr') };
    const collect = (stream: 'stdout' | 'stderr', sink: Buffer[]) => (chunk: Buffer) => {
      sink.push(chunk);
      lines[stream]?.push(chunk);
    };
    child.stdout.on('data', collect('stdout', out));
    child.stderr.on('data', collect('stderr', err));
    child.on('error', reject);
    child.on('close', (exitCode, signal) => {
      lines.stdout?.end();
      lines.stderr?.end();
      resolve({ exitCode, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
    child.stdin.on('error', () => undefined); // the child may exit without reading its input
    child.stdin.end(options.input);
  });
}
