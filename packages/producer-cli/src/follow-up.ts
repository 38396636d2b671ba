import { Flags } from '@oclif/core';
import { InputError, isTaskId } from '@tsk/engine/core';
import type { TaskQueue } from '@tsk/engine/queue';
import type { KeyRing } from '@tsk/engine/signing';
import { earlierFromQueue, earlierFromRunRecord, RunRecords, type EarlierTask } from '@tsk/engine/tasks';

/** `--follow-up <id>` (run, add). */
export const followUpFlag = {
  'follow-up': Flags.string({
    description:
      'Continue this COMPLETE task: start from its result, give the agent its instructions and what it did before the new request, and fast-forward its branch with the result (its own branch if that branch moved).',
    exclusive: ['branch'],
  }),
};

/**
 * The task `--follow-up <id>` names: one `tsk run` ran here (its run record), else a queued one (its
 * record in Redis; `queue` opens the queue only when needed). @throws InputError in one line when there is
 * no such task or it cannot be followed up
 */
export async function findEarlierTask(id: string, dataDir: string, ring: KeyRing, queue: () => Promise<Pick<TaskQueue, 'stored'> | undefined>): Promise<EarlierTask> {
  if (!isTaskId(id)) throw new InputError(`No task ${id.slice(0, 40)} to follow up: a task id is 8 characters of [A-Za-z0-9_]`, { hint: 'see `tsk list`' });
  const record = await new RunRecords(dataDir).read(id);
  if (record !== undefined) return earlierFromRunRecord(record);
  const opened = await queue();
  if (opened === undefined) throw new InputError(`No task ${id} to follow up`, { hint: 'see `tsk list`' });
  return earlierFromQueue(await opened.stored(id), id, ring);
}
