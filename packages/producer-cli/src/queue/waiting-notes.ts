import { oneLine, type TaskView } from '@tsk/engine';

/**
 * For `tsk wait` and `tsk add -w`: a line whenever what a queued task waits for changes ("no worker with
 * label gpu seen in the last 10 min"), so a wait that cannot end soon says why. Notes come from Redis.
 */
export function waitingNotes(write: (line: string) => void): (views: readonly TaskView[]) => void {
  const shown = new Map<string, string | undefined>();
  return (views) => {
    for (const view of views) {
      if (shown.get(view.id) === view.note) continue;
      shown.set(view.id, view.note);
      if (view.note !== undefined) write(`${oneLine(view.id)} ${oneLine(view.status)}: ${oneLine(view.note)}`);
    }
  };
}
