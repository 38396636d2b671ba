import { Flags } from '@oclif/core';
import { formatWorkerEvent, runWorkerServer, type WorkerEvent } from '@tsk/engine';
import { BaseCommand } from '../../base-command.js';
import { terminalSink } from '../../terminal-sink.js';

function printEvent(event: WorkerEvent): void {
  const stream = event.kind === 'error' ? process.stderr : process.stdout;
  stream.write(`${new Date().toISOString().slice(11, 19)} ${formatWorkerEvent(event)}\n`);
}

export default class ServerStart extends BaseCommand {
  static override summary = 'Run a worker in the foreground: N queued tasks at once.';
  static override description =
    'Prints one line per task event. Ctrl+C or `tsk server stop` stops taking tasks and lets running ones finish within ' +
    '--grace seconds, then cancels them; a second Ctrl+C cancels them at once.';
  static override examples = ['<%= config.bin %> server start -w 4', '<%= config.bin %> server start -q'];
  static override flags = {
    workers: Flags.integer({ char: 'w', description: 'Tasks to run at once (default: [server] workers).', min: 1 }),
    'quit-when-empty': Flags.boolean({ char: 'q', description: 'Exit once nothing is queued or running.', default: false }),
    name: Flags.string({ description: 'Worker name (default: <hostname>-<pid>-<random>).' }),
    'health-port': Flags.integer({ description: 'Port of the /healthz endpoint on 127.0.0.1 (0: any free port).', default: 0, min: 0, max: 65535 }),
    health: Flags.boolean({ description: 'Serve /healthz.', allowNo: true, default: true }),
    grace: Flags.integer({ description: 'Seconds running tasks may take to finish when stopping.', default: 300, min: 0 }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(ServerStart);
    await runWorkerServer({
      concurrency: flags.workers,
      name: flags.name,
      quitWhenEmpty: flags['quit-when-empty'],
      health: flags.health ? { host: '127.0.0.1', port: flags['health-port'] } : undefined,
      graceMs: flags.grace * 1000,
      log: terminalSink(process.stderr),
      onEvent: printEvent,
    });
    // The worker has stopped and closed what it opened; a library's leftover timer (BullMQ waits a few
    // seconds on a connection dropped when Redis went away) must not keep the process past that.
    setTimeout(() => process.exit(), 1000).unref();
  }
}
