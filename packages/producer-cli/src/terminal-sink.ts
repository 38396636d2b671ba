import type { LogSink, LogSource } from '@tsk/engine';

const COLORS: Record<LogSource, string> = { tsk: '\x1b[36m', build: '\x1b[2m', agent: '', warn: '\x1b[33m' };
const RESET = '\x1b[0m';
const PREFIX: Record<LogSource, string> = { tsk: '[tsk] ', build: '[build] ', agent: '', warn: 'Warning: ' };

/**
 * Prints task lines to a terminal stream: infrastructure lines prefixed, agent lines as they are,
 * colours only when the stream is a TTY.
 */
export function terminalSink(stream: NodeJS.WriteStream = process.stderr, agentStream: NodeJS.WriteStream = stream): LogSink {
  return {
    write(source, line) {
      const target = source === 'agent' ? agentStream : stream;
      const text = `${PREFIX[source]}${line}`;
      const color = target.isTTY ? COLORS[source] : '';
      target.write(color ? `${color}${text}${RESET}\n` : `${text}\n`);
    },
  };
}

/** Colour a status word on a TTY. */
export function colorStatus(status: string, tty: boolean): string {
  if (!tty) return status;
  const color = status === 'COMPLETE' ? '\x1b[32m' : status === 'FAILED' ? '\x1b[31m' : status === 'CANCELLED' ? '\x1b[33m' : '\x1b[36m';
  return `${color}${status}${RESET}`;
}
