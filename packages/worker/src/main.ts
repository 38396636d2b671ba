import { TskError, createDocker, formatWorkerEvent, loadConfig, runWorkerServer, stripControl, type LogSink, type WorkerEvent } from '@tsk/engine';
import { parseWorkerArgs, USAGE } from './args.js';
import { checkDataDirShared } from './data-dir-check.js';

/** `HH:MM:SS line` on stdout: the worker's one line per event. */
function printEvent(event: WorkerEvent): void {
  const stream = event.kind === 'error' ? process.stderr : process.stdout;
  stream.write(`${new Date().toISOString().slice(11, 19)} ${formatWorkerEvent(event)}\n`);
}

const progress: LogSink = { write: (source, line) => process.stderr.write(`[${source}] ${stripControl(line)}\n`) };

/**
 * The `tsk-worker` process: a queue worker in the foreground (containers, docker compose, systemd).
 * The same engine code as `tsk server start`; this file only parses arguments and prints.
 */
export async function main(argv: string[]): Promise<number> {
  try {
    const args = parseWorkerArgs(argv);
    if (args.help) {
      process.stdout.write(USAGE);
      return 0;
    }
    if (args.checkDataDir) {
      const { machine } = await loadConfig();
      await checkDataDirShared({ docker: createDocker(), dataDir: machine.dataDir, image: machine.baseImage });
    }
    await runWorkerServer({
      concurrency: args.workers,
      name: args.name,
      quitWhenEmpty: args.quitWhenEmpty,
      health: args.health,
      graceMs: args.graceSeconds * 1000,
      log: progress,
      onEvent: printEvent,
    });
    return 0;
  } catch (error) {
    const message = stripControl(error instanceof TskError ? error.userMessage : (error as Error).message);
    if (process.env.TSK_DEBUG === '1' && error instanceof Error) process.stderr.write(`${error.stack}\n`);
    process.stderr.write(`Error: ${message.split('\n')[0]}\n`);
    return 1;
  }
}
