import { Args } from '@oclif/core';
import { cancelTask, taskViewJson, type TaskQueue, type TaskView, type TaskViewJson } from '@tsk/engine/queue';
import { BaseCommand } from '../base-command.js';
import { openCliQueue } from '../queue/open-cli-queue.js';
import { taskIdsFrom } from '../queue/task-ids-arg.js';

/** How long to wait for a running task's worker to stop it before reporting "stopping". */
const STOP_WAIT_MS = 30_000;

export default class Cancel extends BaseCommand {
  static override summary = 'Cancel queued, waiting or running tasks.';
  static override description =
    'A queued or waiting task is removed from the queue; a running one is stopped by its worker, wherever it runs ' +
    '(its container is killed). Either way the task ends CANCELLED, and so do the tasks chained after it.';
  static override strict = false;
  static override enableJsonFlag = true;
  static override args = { ids: Args.string({ description: 'Task ids', required: true }) };

  async run(): Promise<TaskViewJson[]> {
    const { argv } = await this.parse(Cancel);
    const ids = taskIdsFrom(argv);
    await using opened = await openCliQueue();
    const tasks = await opened.queue.getMany(ids);
    const results: TaskView[] = [];
    for (const task of tasks) results.push(await this.cancelOne(opened.queue, task));
    return results.map(taskViewJson);
  }

  private async cancelOne(queue: TaskQueue, task: TaskView): Promise<TaskView> {
    const { report, task: after } = await cancelTask(queue, task, STOP_WAIT_MS);
    if (report !== undefined) this.log(report);
    return after;
  }
}
