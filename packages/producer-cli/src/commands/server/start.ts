import { Flags } from '@oclif/core';
import { formatWorkerEvent, InputError, runWorkerServer, type WorkerEvent } from '@tsk/engine';
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
    dashboard: Flags.boolean({ description: 'Also serve the web dashboard (see `tsk dashboard`) in this process, until the worker stops.', default: false }),
    'dashboard-port': Flags.integer({ description: 'Port of the dashboard (default: [dashboard] port; 0: any free port).', min: 0, max: 65535 }),
    'dashboard-host': Flags.string({ description: 'Address of the dashboard (default: [dashboard] host).' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(ServerStart);
    // Checked here: oclif's dependsOn counts --dashboard's default (false) as given.
    if (!flags.dashboard && (flags['dashboard-host'] !== undefined || flags['dashboard-port'] !== undefined)) {
      throw new InputError('--dashboard-host and --dashboard-port go with --dashboard', { hint: 'add --dashboard' });
    }
    // Started first, so a dashboard that may not start (beyond loopback without a token) stops the command
    // before the worker takes a task; loaded only with --dashboard.
    const dashboard = flags.dashboard
      ? await (await import('../../open-dashboard.js')).openDashboard({ host: flags['dashboard-host'], port: flags['dashboard-port'] })
      : undefined;
    if (dashboard !== undefined) process.stdout.write(`Dashboard: ${dashboard.url}${dashboard.withToken ? ' (asks for its token)' : ''}\n`);
    try {
      await this.runWorker(flags);
    } finally {
      await dashboard?.close();
    }
    // The worker has stopped and closed what it opened; a library's leftover timer (BullMQ waits a few
    // seconds on a connection dropped when Redis went away) must not keep the process past that.
    setTimeout(() => process.exit(), 1000).unref();
  }

  private async runWorker(flags: { workers?: number; name?: string; 'quit-when-empty': boolean; health: boolean; 'health-port': number; grace: number }): Promise<void> {
    await runWorkerServer({
      concurrency: flags.workers,
      name: flags.name,
      quitWhenEmpty: flags['quit-when-empty'],
      health: flags.health ? { host: '127.0.0.1', port: flags['health-port'] } : undefined,
      graceMs: flags.grace * 1000,
      log: terminalSink(process.stderr),
      onEvent: printEvent,
    });
  }
}
