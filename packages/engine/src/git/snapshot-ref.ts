/**
 * The ref that keeps a task's snapshot commit alive. Its own module (no nodegit) so the queue's light
 * paths (`tsk list`, pins, retries) can name it without loading libgit2.
 */
export function snapshotRef(taskId: string): string {
  return `refs/tsk/snapshots/${taskId}`;
}
