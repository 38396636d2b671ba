import { oneLine, stripControl, type LogSink, type LogSource } from '@tsk/engine/core';

const COLORS: Record<LogSource, string> = { tsk: '\x1b[36m', build: '\x1b[2m', agent: '', warn: '\x1b[33m' };
const RESET = '\x1b[0m';
const PREFIX: Record<LogSource, string> = { tsk: '[tsk] ', build: '[build] ', agent: '', warn: 'Warning: ' };

/**
 * Prints task lines to a terminal stream: infrastructure lines prefixed, agent lines as they are (without
 * terminal control: they come from an agent, or from Redis), one line per LF, colours only when the stream
 * is a TTY.
 */
export function terminalSink(stream: NodeJS.WriteStream = process.stderr, agentStream: NodeJS.WriteStream = stream): LogSink {
  return {
    write(source, line) {
      const target = source === 'agent' ? agentStream : stream;
      const color = target.isTTY ? COLORS[source] : '';
      for (const part of stripControl(line).split('\n')) {
        const text = `${PREFIX[source]}${part}`;
        target.write(color ? `${color}${text}${RESET}\n` : `${text}\n`);
      }
    },
  };
}

/** Colour a status word on a TTY (the word made {@link oneLine}: it is read from Redis). */
export function colorStatus(word: string, tty: boolean): string {
  const status = oneLine(word);
  if (!tty) return status;
  const color = status === 'COMPLETE' ? '\x1b[32m' : status === 'FAILED' ? '\x1b[31m' : status === 'CANCELLED' ? '\x1b[33m' : '\x1b[36m';
  return `${color}${status}${RESET}`;
}
