import type { StopIdleProxiesResult } from '@tsk/engine';
import { BaseCommand } from '../../base-command.js';
import { createEngineContext, createProxyManager } from '../../engine-context.js';

export default class ProxyStop extends BaseCommand {
  static override summary = 'Remove your network proxies that no running task uses, with their networks.';
  static override description =
    'A proxy stays up for [proxy] idle_timeout (default 2m) after its last task ends, so the next task starts on it warm; ' +
    'this removes idle proxies at once, warm or not, and cleans up after tasks that were killed. ' +
    'Proxies and networks of running tasks are left alone, so it is safe to run at any time. ' +
    "Proxies are per OS user: other users' proxies are theirs to stop.";
  static override enableJsonFlag = true;

  async run(): Promise<StopIdleProxiesResult> {
    await this.parse(ProxyStop);
    const result = await createProxyManager(await createEngineContext()).stopIdle();
    const removed = [...result.removedProxies, ...result.removedNetworks];
    this.log(removed.length > 0 ? `Removed ${removed.join(', ')}` : 'No idle proxies or networks');
    if (result.inUse.length > 0) this.log(`In use by running tasks: ${result.inUse.join(', ')}`);
    return result;
  }
}
