import { Flags } from '@oclif/core';
import { listServers, stopServers, tskDirs } from '@tsk/engine';
import { BaseCommand } from '../../base-command.js';

export default class ServerStop extends BaseCommand {
  static override summary = 'Stop the workers started with `tsk server start` on this machine.';
  static override description =
    'They stop taking tasks and let running ones finish within their grace period, then cancel them. --now cancels running tasks at once.';
  static override flags = {
    now: Flags.boolean({ description: 'Cancel running tasks at once.', default: false }),
    // A week at most: more would overflow the timer that waits.
    timeout: Flags.integer({ description: 'Seconds to wait for the servers to exit.', default: 600, min: 0, max: 7 * 86_400 }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(ServerStop);
    const { runtimeDir } = tskDirs();
    const servers = await listServers(runtimeDir);
    if (servers.length === 0) {
      this.log('No tsk server is running on this machine');
      return;
    }
    for (const server of servers) this.log(`Stopping worker ${server.worker} (pid ${server.pid})${flags.now ? ', cancelling its tasks' : ''}…`);
    const { stopped, running } = await stopServers(runtimeDir, { now: flags.now, timeoutMs: flags.timeout * 1000 });
    for (const server of stopped) this.log(`Stopped worker ${server.worker}`);
    if (running.length > 0) this.error(`Worker(s) still running after ${flags.timeout}s: ${running.map((s) => `${s.worker} (pid ${s.pid})`).join(', ')}`);
  }
}
