import { Args, Flags } from '@oclif/core';
import { InputError } from '@tsk/engine/core';
import { BaseCommand } from '../base-command.js';
import { cancelOnSignal } from '../cancel-on-signal.js';
import { openCliQueue } from '../queue/open-cli-queue.js';
import { taskIdsFrom } from '../queue/task-ids-arg.js';
import { terminalSink } from '../terminal-sink.js';

export default class Logs extends BaseCommand {
  static override summary = "Print a task's log; -f follows it live until the task ends.";
  static override description =
    'Works from any machine that reaches the queue’s Redis. The log keeps the last 10,000 lines and at most 8 MiB of agent and build ' +
    'output per task; longer lines are cut at 16,384 characters, and terminal control characters are never printed.';
  static override examples = ['<%= config.bin %> logs AbC123_x', '<%= config.bin %> logs -f AbC123_x'];
  static override args = { id: Args.string({ description: 'Task id', required: true }) };
  static override flags = { follow: Flags.boolean({ char: 'f', description: 'Keep printing new lines until the task ends.', default: false }) };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Logs);
    const [id = ''] = taskIdsFrom([args.id]);
    await using opened = await openCliQueue();
    if ((await opened.queue.get(id)) === undefined) throw new InputError(`No task ${id}`, { hint: 'see `tsk list`' });
    const out = terminalSink(process.stdout);
    if (!flags.follow) {
      for (const entry of await opened.queue.readLog(id)) out.write(entry.source, entry.line);
      return;
    }
    const interrupt = cancelOnSignal(() => undefined);
    try {
      for await (const entry of opened.queue.followLog(id, interrupt.signal)) out.write(entry.source, entry.line);
    } finally {
      interrupt.dispose();
    }
  }
}
