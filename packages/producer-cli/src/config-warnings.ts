import type { ConfigWarning } from '@tsk/engine/config';
import { terminalSink } from './terminal-sink.js';

/** Warnings this process has printed: a command loads the configuration more than once (`tsk add -a a,b`). */
const printed = new Set<ConfigWarning>();

/**
 * Prints the configuration's warnings (TSK keys read as tsk's, TSK keys ignored) as `Warning: …` lines on
 * stderr, each once per command however often the configuration is loaded.
 */
export function printConfigWarnings(warnings: readonly ConfigWarning[], stream: NodeJS.WriteStream = process.stderr): void {
  const sink = terminalSink(stream);
  for (const warning of warnings) {
    if (printed.has(warning)) continue;
    printed.add(warning);
    sink.write('warn', warning);
  }
}
