import { BaseCommand } from '../base-command.js';
import { openCliQueue } from '../queue/open-cli-queue.js';
import { renderTaskTable, summarizeTasks } from '../queue/task-table.js';
import { taskViewJson, type TaskViewJson } from '../queue/task-view-json.js';

export default class List extends BaseCommand {
  static override summary = 'List queued, running and finished tasks.';
  static override enableJsonFlag = true;

  async run(): Promise<TaskViewJson[]> {
    await this.parse(List);
    await using opened = await openCliQueue();
    const tasks = await opened.queue.list();
    if (tasks.length > 0) for (const line of renderTaskTable(tasks, process.stdout.isTTY === true)) this.log(line);
    this.log(summarizeTasks(tasks));
    return tasks.map(taskViewJson);
  }
}
