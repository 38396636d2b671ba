// Log latency: from the moment an agent prints a line to the moment `tsk logs -f` prints it, against the
// moment `docker run` (attached) prints the same kind of line from a container of the same image.
// Why that baseline: a sandbox's output reaches the worker through the same Docker attach stream, so
// the docker-run figure is the floor any container log path has on this machine, and the ratio is what
// the worker → Redis → `tsk logs -f` hop adds on top. (Sandboxes have Docker's log driver off, so
// `docker logs -f` of the task's own container is not available.) Both clocks are the host's: the
// container stamps each line with `date +%s%6N` (µs) and the reader compares with its own clock.
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { exited, median, stopChild, track, watchContainerStarts } from '../lib/harness.mjs';
import { figure } from '../lib/figures.mjs';

const LINE = /BENCHLINE (\d+) (\d+)/;

/** Read a child's stdout; for every stamped line, how late it arrived (ms). */
function latencies(child) {
  const late = [];
  let pending = '';
  child.stdout.on('data', (chunk) => {
    const now = performance.timeOrigin + performance.now(); // the host's clock, below the millisecond
    const lines = (pending + chunk).split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      const match = LINE.exec(line);
      if (match) late.push(now - Number(match[2]) / 1000);
    }
  });
  return late;
}

export const section = {
  name: 'logs',
  docker: true, // runs containers: holds --lock while it runs
  title: 'Log latency',
  about:
    "A script agent prints a time-stamped line every 0.25 s; each line's delay until `tsk logs -f` prints it (one `tsk-worker`), " +
    'against the delay until an attached `docker run` of the same image running the same script prints it, taken just before. ' +
    'Why this baseline: sandbox output reaches the worker through that same Docker attach stream, so it is the floor; ' +
    'the ratio is what the worker → Redis → `tsk logs -f` path adds. Ratio: median delay of the task over median delay of the container, per round.',
  async run(ctx) {
    const rounds = ctx.quick ? 1 : 3;
    const lines = ctx.quick ? 12 : 24;
    const script = `sleep 2; for i in $(seq 1 ${lines}); do echo "BENCHLINE $i $(date +%s%6N)"; sleep 0.25; done`;
    const repo = ctx.repo(50, 'bench-small');
    await ctx.tsk(['list'], { cwd: repo });
    const worker = await ctx.startWorker('logs', { cwd: repo });
    const events = watchContainerStarts();
    await events.ready;
    const s = { tsk: [], docker: [] };
    try {
      ctx.progress('logs: warm-up task (builds the script image if needed)');
      const warm = /Queued (\S+) /.exec((await ctx.tsk(['add', '-a', 'script', '-n', 'warm-up', '-p', 'true'], { cwd: repo })).stdout)?.[1];
      const image = (await events.waitFor(`the container of ${warm}`, (e) => e.task === warm)).image;
      await ctx.tsk(['wait', warm], { cwd: repo });
      for (let round = 0; round < rounds; round++) {
        ctx.progress(`logs: round ${round + 1}/${rounds}`);
        const container = track(spawn('docker', ['run', '--rm', '--name', ctx.containerName(), '--network', 'none', image, 'bash', '-c', script], { stdio: ['ignore', 'pipe', 'ignore'] }));
        const dockerLate = latencies(container);
        await exited(container);

        const out = (await ctx.tsk(['add', '-a', 'script', '-n', `logs-${round}`, '-p', script], { cwd: repo })).stdout;
        const id = /Queued (\S+) /.exec(out)?.[1];
        if (!id) throw new Error(`tsk add printed no task id: ${out}`);
        const follower = ctx.spawnTsk(['logs', '-f', id], { cwd: repo });
        const tskLate = latencies(follower);
        await exited(follower);
        await ctx.tsk(['wait', id], { cwd: repo });
        if (tskLate.length < lines || dockerLate.length < lines) {
          throw new Error(`saw ${tskLate.length} lines through tsk logs -f and ${dockerLate.length} through docker run, of ${lines}`);
        }
        s.tsk.push(median(tskLate));
        s.docker.push(median(dockerLate));
      }
    } finally {
      await events.stop();
      await stopChild(worker);
    }
    return [figure({ name: 'agent line → tsk logs -f', baseline: 'container line → docker run (attached)', measured: s.tsk, base: s.docker, note: `${lines} lines per round; ms columns are the median delay of a line` })];
  },
};

await (await import('../lib/runner.mjs')).runIfMain(import.meta.url, section);
