import { Args } from '@oclif/core';
import { BaseCommand } from '../base-command.js';
import { cancelOnSignal } from '../cancel-on-signal.js';
import { openCliQueue } from '../queue/open-cli-queue.js';
import { taskIdsFrom } from '../queue/task-ids-arg.js';
import { taskViewJson, type TaskViewJson } from '@tsk/engine/queue';
import { waitingNotes } from '../queue/waiting-notes.js';
import { waitExitCode, waitReport } from '../queue/wait-report.js';

export default class Wait extends BaseCommand {
  static override summary = 'Wait until tasks end; exit 0 only if all are COMPLETE.';
  static override description = 'Prints each task’s status, duration, branch or error, and its last log lines. Ctrl+C stops waiting (the tasks go on).';
  static override examples = ['<%= config.bin %> wait AbC123_x', '<%= config.bin %> wait AbC123_x Zz9_0000 --json'];
  static override strict = false;
  static override enableJsonFlag = true;
  static override args = { ids: Args.string({ description: 'Task ids', required: true }) };

  async run(): Promise<TaskViewJson[]> {
    const { argv } = await this.parse(Wait);
    const ids = taskIdsFrom(argv);
    await using opened = await openCliQueue();
    await opened.queue.getMany(ids);
    const interrupt = cancelOnSignal(() => undefined);
    const onPoll = waitingNotes((line) => process.stderr.write(`${line}\n`));
    const tasks = await opened.queue.waitFor(ids, { signal: interrupt.signal, onPoll }).finally(() => interrupt.dispose());
    for (const line of await waitReport(opened.queue, tasks, process.stdout.isTTY === true)) this.log(line);
    const result = tasks.map(taskViewJson);
    const code = interrupt.signal.aborted ? 130 : waitExitCode(tasks);
    if (code !== 0) {
      if (this.jsonEnabled()) this.logJson(result);
      this.exit(code);
    }
    return result;
  }
}
