// Cancel latency: from `tsk cancel` of a running task to its sandbox being gone (Docker's destroy event),
// one real tsk-worker, against `docker rm -f` of a running container of the same image → its destroy
// event, the floor of removing a container. (A test asserted this within 10 s; the report holds it now.)
import { spawn } from 'node:child_process';
import { exited, stopChild, track, watchContainerStarts } from '../lib/harness.mjs';
import { figure } from '../lib/figures.mjs';

export const section = {
  name: 'cancel',
  docker: true, // runs containers: holds --lock while it runs
  title: 'Cancel latency',
  about:
    "`tsk cancel` of a running `sleep 60` script task → Docker's destroy event of its sandbox (one `tsk-worker`), against " +
    '`docker rm -f` of a running `sleep 60` container of the same image → its destroy event, taken just before.',
  async run(ctx) {
    const samples = ctx.quick ? 2 : 5;
    const repo = ctx.repo(50, 'bench-small');
    await ctx.tsk(['list'], { cwd: repo });
    const worker = await ctx.startWorker('cancel', { cwd: repo });
    const events = watchContainerStarts(['start', 'destroy']);
    await events.ready;
    const s = { tsk: [], docker: [] };
    try {
      let image;
      for (let round = -1; round < samples; round++) {
        ctx.progress(`cancel: ${round < 0 ? 'warm-up' : `${round + 1}/${samples}`}`);
        if (image) {
          const name = ctx.containerName();
          const child = track(spawn('docker', ['run', '--rm', '--name', name, '--network', 'none', image, 'sleep', '60'], { stdio: 'ignore' }));
          await events.waitFor(`container ${name}`, (e) => e.action === 'start' && e.name === name);
          const removing = Date.now();
          const remover = track(spawn('docker', ['rm', '-f', name], { stdio: 'ignore' }));
          const gone = await events.waitFor(`container ${name} removed`, (e) => e.action === 'destroy' && e.name === name, 60_000);
          await Promise.all([exited(remover), exited(child)]);
          s.docker.push(gone.at - removing);
        }
        const out = (await ctx.tsk(['add', '-a', 'script', '-n', `cancel-${round}`, '-p', round < 0 ? 'true' : 'sleep 60'], { cwd: repo })).stdout;
        const id = /Queued (\S+) /.exec(out)?.[1];
        if (!id) throw new Error(`tsk add printed no task id: ${out}`);
        const start = await events.waitFor(`the container of ${id}`, (e) => e.action === 'start' && e.task === id);
        image = start.image;
        if (round < 0) {
          // The warm-up builds the script image and is not cancelled.
          await ctx.tsk(['wait', id], { cwd: repo });
          continue;
        }
        const cancelling = Date.now();
        await ctx.tsk(['cancel', id], { cwd: repo });
        const gone = await events.waitFor(`the container of ${id} removed`, (e) => e.action === 'destroy' && e.task === id, 120_000);
        s.tsk.push(gone.at - cancelling);
        await ctx.tsk(['wait', id], { cwd: repo, allowFail: true }); // CANCELLED: tsk wait says so with exit 1
      }
    } finally {
      await events.stop();
      await stopChild(worker);
    }
    return [
      figure({ name: 'tsk cancel → sandbox gone', baseline: 'docker rm -f → container gone', measured: s.tsk, base: s.docker }),
      figure({ name: 'tsk cancel → sandbox gone', baseline: 'docker rm -f → container gone', stat: 'p99', measured: s.tsk, base: s.docker }),
    ];
  },
};

await (await import('../lib/runner.mjs')).runIfMain(import.meta.url, section);
