import { cutLine } from '../common/line-splitter.js';
import { stripControl } from '../common/terminal-text.js';
import { LOG_LIMITS, type LogLimits } from './log-limits.js';
import type { LogSink, LogSource } from './log-sink.js';

function formatSize(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${+(bytes / (1024 * 1024)).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${+(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} bytes`;
}

/** The one line a task log gets when its agent and build output reached {@link LogLimits.taskBytes}. */
export function logCutLine(limits: LogLimits = LOG_LIMITS): string {
  return `Log cut at ${formatSize(limits.taskBytes)}: later agent and build output is dropped (the task goes on)`;
}

/**
 * A task's log as it may be stored and shown: every line stripped of terminal control, split at LF (one
 * entry is one line, so no text can pose as a line of its own), and cut to `lineChars`. Agent and build
 * lines stop at `taskBytes` (UTF-8 bytes plus a per-line overhead, so a flood of empty lines counts too):
 * the first line over it is replaced by one `warn` line, and everything they write later is dropped while
 * the task goes on. tsk's own lines (`tsk`, `warn`) count as well and may use `tskReserveBytes` more, so
 * how the task ended is still logged.
 */
export function boundedSink(sink: LogSink, limits: LogLimits = LOG_LIMITS): LogSink {
  let used = 0;
  let cut = false;
  const pass = (source: LogSource, line: string, budget: number): boolean => {
    const cost = Buffer.byteLength(line, 'utf8') + limits.lineOverheadBytes;
    if (used + cost > budget) return false;
    used += cost;
    sink.write(source, line);
    return true;
  };
  const ownBudget = limits.taskBytes + limits.tskReserveBytes;
  return {
    write(source, text) {
      const own = source === 'tsk' || source === 'warn';
      for (const part of stripControl(text).split('\n')) {
        const line = cutLine(part, limits.lineChars);
        if (own) {
          pass(source, line, ownBudget);
        } else if (!cut && !pass(source, line, limits.taskBytes)) {
          cut = true;
          pass('warn', logCutLine(limits), ownBudget);
        }
      }
    },
  };
}
