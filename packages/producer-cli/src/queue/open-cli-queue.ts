import { openConfiguredQueue, type ConfiguredQueue } from '@tsk/engine';
import { terminalSink } from '../terminal-sink.js';

/**
 * The queue for a command: the configured Redis, or the embedded one (started on first use, with its
 * progress on stderr so `--json` output stays clean). Close it with `close()` or `await using`.
 */
export function openCliQueue(): Promise<ConfiguredQueue> {
  return openConfiguredQueue({ purpose: 'cli', log: terminalSink(process.stderr) });
}
