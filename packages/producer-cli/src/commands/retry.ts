import { Args, Flags } from '@oclif/core';
import { oneLine } from '@tsk/engine/core';
import { taskViewJson, type TaskView, type TaskViewJson } from '@tsk/engine/queue';
import { BaseCommand } from '../base-command.js';
import { editInEditor } from '../editor.js';
import { openCliQueue } from '../queue/open-cli-queue.js';
import { taskIdsFrom } from '../queue/task-ids-arg.js';
import { parseAgent } from '../task-flags.js';
import { terminalSink } from '../terminal-sink.js';
import { userTrust } from '../user-trust.js';

export default class Retry extends BaseCommand {
  static override summary = 'Queue a new task with the same instructions and settings as an earlier one.';
  static override description =
    'The instructions are reused as they were rendered (not re-templated) and the settings as they were resolved; the new ' +
    'task starts from the same commit (a chained task from its parent’s result). --agent, --name and --edit change that. ' +
    'The new task is signed with your key, so the original must be signed by a key you trust (yours, or [worker] trusted_keys). ' +
    'With --push, nothing runs again: the worker that kept the result of a task whose push to the shared remote failed pushes it as the new task’s result.';
  static override strict = false;
  static override enableJsonFlag = true;
  static override args = { ids: Args.string({ description: 'Task ids', required: true }) };
  static override flags = {
    agent: Flags.string({ char: 'a', description: 'Run it with this agent instead.' }),
    name: Flags.string({ char: 'n', description: 'Give it this name (and branch) instead.' }),
    edit: Flags.boolean({ char: 'e', description: 'Edit the instructions in $EDITOR first.', default: false }),
    push: Flags.boolean({
      description: 'Push the result the task’s worker kept when its push to the shared remote failed, instead of running the agent again.',
      default: false,
      exclusive: ['agent', 'edit'],
    }),
  };

  async run(): Promise<TaskViewJson[]> {
    const { argv, flags } = await this.parse(Retry);
    const ids = taskIdsFrom(argv);
    const agent = parseAgent(flags.agent);
    await using opened = await openCliQueue();
    await opened.queue.getMany(ids);
    const trust = await userTrust(opened.config.machine, terminalSink(process.stderr));
    const queued: TaskView[] = [];
    for (const id of ids) {
      const task = await opened.queue.retry(id, { agent, name: flags.name, edit: flags.edit ? editInEditor : undefined, push: flags.push }, trust);
      // Type and stack are read back from Redis.
      this.log(oneLine(`Queued ${task.id} (retry of ${id}; ${task.type}, ${task.stack}, ${task.agent})`));
      queued.push(task);
      if (queued.length === 1) trust.announce();
    }
    return queued.map(taskViewJson);
  }
}
