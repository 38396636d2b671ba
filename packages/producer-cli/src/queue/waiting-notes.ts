import { oneLine } from '@tsk/engine/core';
import type { TaskView } from '@tsk/engine/queue';
import { delayedUntilText } from './task-table.js';

/**
 * For `tsk wait` and `tsk add -w`: a line whenever what a queued task waits for changes ("no worker with
 * label gpu seen in the last 10 min"), or a task goes back to the queue rate limited (`DELAYED until
 * 14:05`), so a wait that cannot end soon says why. Notes come from Redis.
 */
export function waitingNotes(write: (line: string) => void): (views: readonly TaskView[]) => void {
  const shown = new Map<string, string | undefined>();
  return (views) => {
    for (const view of views) {
      const note = view.status === 'DELAYED' ? `rate limited, back in the queue ${delayedUntilText(view) ?? 'later'}` : view.note;
      if (shown.get(view.id) === note) continue;
      shown.set(view.id, note);
      if (note !== undefined) write(`${oneLine(view.id)} ${oneLine(view.status)}: ${oneLine(note)}`);
    }
  };
}
