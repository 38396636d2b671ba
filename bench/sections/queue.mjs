// The queue's overhead: `tsk add` → the task's container starting (one real tsk-worker, no-op agent, warm
// image) against `docker run` → its container starting, same image; and `tsk list` / `tsk add` with an
// empty queue and with 1,000 tasks queued, against `node -e ''`.
import { spawn } from 'node:child_process';
import { nodeBaseline, exited, stopChild, track, watchContainerStarts } from '../lib/harness.mjs';
import { figure } from '../lib/figures.mjs';

/** Queue `count` tasks through the engine as `tsk add` would, minus `count` process starts (they never run). */
async function fillQueue(ctx, repo, count) {
  const engine = await ctx.engine();
  const ids = [];
  const opened = await engine.openConfiguredQueue({ purpose: 'cli', log: engine.silentSink, env: ctx.env });
  try {
    const { key } = await engine.loadLocalTrust(opened.config.machine);
    const template = await engine.createTaskSpec({ repoPath: repo, prompt: 'bench', agent: 'no-op', env: ctx.env, log: engine.silentSink, signer: engine.taskSigner(key) });
    for (let i = 0; i < count; i++) {
      const id = engine.newTaskId();
      const source = { ...template.source, ref: `refs/tsk/snapshots/${id}` };
      const spec = { ...template, id, name: `filler-${i}`, source, branch: `tsk/generic/filler-${i}/${id}`, createdAt: new Date().toISOString() };
      await opened.queue.add(engine.signTask(spec, key));
      ids.push(id);
    }
  } finally {
    await opened.close();
  }
  return ids;
}

export const section = {
  name: 'queue',
  docker: true, // runs containers: holds --lock while it runs
  title: 'Queue: `tsk add` → container start, and commands with 1,000 tasks queued',
  about:
    "`tsk add` → container start: from starting `tsk add` to Docker's start event of the task's sandbox (one `tsk-worker`, " +
    'no-op agent, warm image), against `docker run --rm` of the same image → its start event, alternating; the p50 and p99 ' +
    "ratios compare the percentiles of the two series. Command latency: each `tsk` command against `node -e ''` just before it; " +
    '1,000 tasks are queued through the engine with no worker running.',
  async run(ctx) {
    const runs = ctx.quick ? 5 : 20;
    const samples = ctx.quick ? 3 : 10;
    const queued = 1000;
    const repo = ctx.repo(50, 'bench-small');
    const figures = [];
    await ctx.tsk(['list'], { cwd: repo }); // the embedded Redis starts here, outside every figure

    // Command latency with an empty queue.
    const empty = { add: [], addBase: [], list: [], listBase: [] };
    const queuedIds = [];
    for (let i = 0; i < samples; i++) {
      ctx.progress(`queue: empty-queue commands ${i + 1}/${samples}`);
      empty.addBase.push((await nodeBaseline()).ms);
      const added = await ctx.tsk(['add', '--agent', 'no-op', '-n', `empty-${i}`, '-p', 'bench'], { cwd: repo });
      empty.add.push(added.ms);
      queuedIds.push(...[...added.stdout.matchAll(/Queued (\S+) /g)].map((m) => m[1]));
      empty.listBase.push((await nodeBaseline()).ms);
      empty.list.push((await ctx.tsk(['list'], { cwd: repo })).ms);
    }
    // Nothing may wait ahead of the tasks timed below.
    if (queuedIds.length > 0) await ctx.tsk(['cancel', ...queuedIds], { cwd: repo });
    await ctx.tsk(['clean'], { cwd: repo });

    // tsk add → container start.
    const worker = await ctx.startWorker(1, { cwd: repo });
    const events = watchContainerStarts();
    await events.ready;
    const tskStarts = [];
    const dockerStarts = [];
    try {
      let image;
      for (let round = -1; round < runs; round++) {
        ctx.progress(`queue: add → start ${round < 0 ? 'warm-up' : `${round + 1}/${runs}`}`);
        if (image) {
          const name = ctx.containerName();
          const started = Date.now();
          const child = track(spawn('docker', ['run', '--rm', '--name', name, '--network', 'none', image, 'true'], { stdio: 'ignore' }));
          const start = await events.waitFor(`container ${name}`, (e) => e.name === name);
          await exited(child);
          dockerStarts.push(start.at - started);
        }
        const started = Date.now();
        const out = (await ctx.tsk(['add', '--agent', 'no-op', '-n', `start-${round}`, '-p', 'bench'], { cwd: repo })).stdout;
        const id = /Queued (\S+) /.exec(out)?.[1];
        if (!id) throw new Error(`tsk add printed no task id: ${out}`);
        const start = await events.waitFor(`the container of ${id}`, (e) => e.task === id);
        await ctx.tsk(['wait', id], { cwd: repo });
        // The warm-up builds the image: its figure is not the queue's overhead.
        if (round >= 0) tskStarts.push(start.at - started);
        image = start.image;
      }
    } finally {
      await events.stop();
      await stopChild(worker);
    }
    figures.push(
      figure({ name: 'tsk add → container start', baseline: 'docker run → container start', stat: 'p50', measured: tskStarts, base: dockerStarts, target: { max: 5 } }),
      figure({ name: 'tsk add → container start', baseline: 'docker run → container start', stat: 'p99', measured: tskStarts, base: dockerStarts, target: { max: 10 } }),
    );
    await ctx.tsk(['clean'], { cwd: repo });

    // Command latency with 1,000 tasks queued (no worker: they stay queued).
    ctx.progress(`queue: queueing ${queued} tasks`);
    const fillers = await fillQueue(ctx, repo, queued);
    const full = { add: [], addBase: [], list: [], listBase: [] };
    for (let i = 0; i < samples; i++) {
      ctx.progress(`queue: commands with ${queued} tasks queued ${i + 1}/${samples}`);
      full.listBase.push((await nodeBaseline()).ms);
      full.list.push((await ctx.tsk(['list'], { cwd: repo })).ms);
      full.addBase.push((await nodeBaseline()).ms);
      const added = await ctx.tsk(['add', '--agent', 'no-op', '-n', `full-${i}`, '-p', 'bench'], { cwd: repo });
      full.add.push(added.ms);
      fillers.push(...[...added.stdout.matchAll(/Queued (\S+) /g)].map((m) => m[1]));
    }
    // The next sections share this Redis: nothing of these may wait ahead of their tasks.
    ctx.progress(`queue: cancelling and removing the ${fillers.length} queued tasks`);
    await ctx.tsk(['cancel', ...fillers], { cwd: repo });
    await ctx.tsk(['clean'], { cwd: repo });
    figures.push(
      figure({ name: 'tsk add, empty queue', baseline: "node -e ''", measured: empty.add, base: empty.addBase }),
      figure({ name: 'tsk list, empty queue', baseline: "node -e ''", measured: empty.list, base: empty.listBase }),
      figure({ name: `tsk add, ${queued} tasks queued`, baseline: "node -e ''", measured: full.add, base: full.addBase }),
      figure({ name: `tsk list, ${queued} tasks queued`, baseline: "node -e ''", measured: full.list, base: full.listBase }),
    );
    return figures;
  },
};

await (await import('../lib/runner.mjs')).runIfMain(import.meta.url, section);
