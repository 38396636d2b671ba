import { openConfiguredQueue, type ConfiguredQueue } from '@tsk/engine/queue';
import { printConfigWarnings } from '../config-warnings.js';
import { terminalSink } from '../terminal-sink.js';

/**
 * The queue for a command: the configured Redis, or the embedded one (started on first use, with its
 * progress on stderr so `--json` output stays clean). Close it with `close()` or `await using`.
 */
export async function openCliQueue(): Promise<ConfiguredQueue> {
  const opened = await openConfiguredQueue({ purpose: 'cli', log: terminalSink(process.stderr) });
  printConfigWarnings(opened.config.warnings);
  return opened;
}
