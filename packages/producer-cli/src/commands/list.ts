import { RunRecords, runRecordView, taskViewJson, type TaskView, type TaskViewJson } from '@tsk/engine/queue';
import { BaseCommand } from '../base-command.js';
import { openCliQueue } from '../queue/open-cli-queue.js';
import { renderTaskTable, summarizeTasks } from '../queue/task-table.js';
import { terminalSink } from '../terminal-sink.js';

export default class List extends BaseCommand {
  static override summary = 'List queued, running and finished tasks.';
  static override description = 'Tasks `tsk run` ran on this machine are listed too, with (run) as their worker.';
  static override enableJsonFlag = true;

  async run(): Promise<TaskViewJson[]> {
    await this.parse(List);
    await using opened = await openCliQueue();
    const [queued, runs] = await Promise.all([opened.queue.list(), new RunRecords(opened.config.machine.dataDir).list()]);
    if (runs.skipped.length > 0) {
      terminalSink(process.stderr).write('warn', `Skipped ${runs.skipped.length} invalid run record(s) in ${new RunRecords(opened.config.machine.dataDir).dir}: ${runs.skipped.join(', ')}`);
    }
    const tasks = mergeByCreation(queued, runs.records.map(runRecordView));
    if (tasks.length > 0) for (const line of renderTaskTable(tasks, process.stdout.isTTY === true)) this.log(line);
    this.log(summarizeTasks(tasks));
    return tasks.map(taskViewJson);
  }
}

/** Queued tasks and `tsk run`'s, oldest first, as the queue lists its own. */
function mergeByCreation(queued: readonly TaskView[], runs: readonly TaskView[]): TaskView[] {
  const seen = new Set(queued.map((task) => task.id));
  return [...queued, ...runs.filter((task) => !seen.has(task.id))].sort((a, b) => a.createdAt.localeCompare(b.createdAt));
}
