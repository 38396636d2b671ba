import { BaseCommand } from '../base-command.js';
import { openCliQueue } from '../queue/open-cli-queue.js';
import { renderWorkerTable, summarizeWorkers, workerJson, type WorkerJson } from '../queue/worker-table.js';

export default class Workers extends BaseCommand {
  static override summary = 'List the live workers: host, capacity, running tasks, labels, last heartbeat.';
  static override description =
    'Every worker that beats on the queue’s Redis, on any machine. A worker that stops beating (killed, its machine or ' +
    'network gone) drops out within 15 seconds; one told to stop shows as stopping and takes no new task.';
  static override examples = ['<%= config.bin %> workers', '<%= config.bin %> workers --json'];
  static override enableJsonFlag = true;

  async run(): Promise<WorkerJson[]> {
    await this.parse(Workers);
    await using opened = await openCliQueue();
    const workers = await opened.queue.workers();
    if (workers.length > 0) for (const line of renderWorkerTable(workers)) this.log(line);
    this.log(summarizeWorkers(workers));
    return workers.map(workerJson);
  }
}
