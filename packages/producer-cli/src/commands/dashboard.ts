import { Flags } from '@oclif/core';
import { BaseCommand } from '../base-command.js';

export default class Dashboard extends BaseCommand {
  static override summary = 'Open the web dashboard: the queue and the fleet live in a browser, logs, diffs, and actions.';
  static override description =
    'Serves the dashboard until Ctrl+C. On loopback (the default) it needs no login. Bound to any other address it asks for a token ' +
    '([dashboard] token_file or TSK_DASHBOARD_TOKEN) and refuses to start without one. Tasks queued, retried or followed up from the page ' +
    'are signed with your key: whoever holds the token acts as you. The page may queue tasks only on the repositories named in ' +
    '[dashboard] repositories.';
  static override examples = ['<%= config.bin %> dashboard', 'TSK_DASHBOARD_TOKEN=$(cat ~/.tsk-token) <%= config.bin %> dashboard --host 0.0.0.0 --port 8080'];
  static override flags = {
    port: Flags.integer({ char: 'p', description: 'Port to listen on (default: [dashboard] port, 7777; 0: any free port).', min: 0, max: 65535 }),
    host: Flags.string({ description: 'Address to listen on (default: [dashboard] host, 127.0.0.1).' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Dashboard);
    // Loaded here, not at the top: `tsk --help` and the other commands never load the server.
    const { openDashboard } = await import('../open-dashboard.js');
    const dashboard = await openDashboard({ host: flags.host, port: flags.port });
    this.log(`Dashboard: ${dashboard.url}${dashboard.withToken ? ' (asks for its token)' : ''}`);
    await untilInterrupted();
    await dashboard.close();
  }
}

/** Resolves on the first Ctrl+C or SIGTERM (a second one exits at once). */
async function untilInterrupted(): Promise<void> {
  const { cancelOnSignal } = await import('../cancel-on-signal.js');
  const interrupt = cancelOnSignal(() => undefined);
  await new Promise<void>((resolve) => interrupt.signal.addEventListener('abort', () => resolve(), { once: true }));
  interrupt.dispose();
}
