/**
 * The `tsk-worker` process. The queue worker is built in the queue issue; until then the binary
 * only says so, so that nobody mistakes it for a working worker.
 */
export async function main(_argv: string[]): Promise<number> {
  process.stderr.write('Error: tsk-worker is not available yet; use `tsk run` to run tasks now\n');
  return 1;
}
