import { Args } from '@oclif/core';
import { deleteTask, loadLocalTrust } from '@tsk/engine';
import { BaseCommand } from '../base-command.js';
import { openCliQueue } from '../queue/open-cli-queue.js';
import { taskIdsFrom } from '../queue/task-ids-arg.js';

export default class Delete extends BaseCommand {
  static override summary = 'Delete tasks: their queue entries, logs and workspaces (a task still going is cancelled first).';
  static override description = 'Result branches are yours and stay.';
  static override strict = false;
  static override enableJsonFlag = true;
  static override args = { ids: Args.string({ description: 'Task ids', required: true }) };

  async run(): Promise<{ deleted: string[] }> {
    const { argv } = await this.parse(Delete);
    const ids = taskIdsFrom(argv);
    await using opened = await openCliQueue();
    await opened.queue.getMany(ids);
    const cleanup = { dataDir: opened.config.machine.dataDir, ring: (await loadLocalTrust(opened.config.machine)).ring };
    for (const id of ids) {
      await deleteTask(opened.queue, id, cleanup);
      this.log(`Deleted ${id}`);
    }
    return { deleted: ids };
  }
}
