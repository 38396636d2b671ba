import { checkBinding, readDashboardToken, startDashboard } from '@tsk/dashboard';
import { loadConfig } from '@tsk/engine/config';
import { openCliQueue } from './queue/open-cli-queue.js';

/** A dashboard a command started, with the queue it opened for it. */
export interface OpenedDashboard {
  url: string;
  /** It asks for a token (it is bound beyond loopback, or one is configured). */
  withToken: boolean;
  /** Stop serving, then close the queue. */
  close(): Promise<void>;
}

/**
 * The dashboard as `tsk dashboard` and `tsk server start --dashboard` start it: `[dashboard]` settings under
 * the flags, the token read, a binding beyond loopback without one refused before anything is opened.
 * Loaded by those commands only when they run (it loads the server and the whole engine).
 */
export async function openDashboard(options: { host?: string; port?: number }): Promise<OpenedDashboard> {
  const { machine } = await loadConfig();
  const host = options.host ?? machine.dashboard.host;
  const token = await readDashboardToken(machine.dashboard.tokenFile);
  checkBinding(host, token);
  const opened = await openCliQueue();
  try {
    const dashboard = await startDashboard({ queue: opened.queue, machine: opened.config.machine, host, port: options.port, token });
    return {
      url: dashboard.url,
      withToken: token !== undefined,
      async close() {
        await dashboard.close();
        await opened.close();
      },
    };
  } catch (error) {
    await opened.close();
    throw error;
  }
}
