// Throughput of 10-second sleep tasks (script agent) with 1, 2 and 4 real `tsk-worker` processes on one
// Redis, each running one task at a time, against one worker measured in the same run. The tasks sleep,
// so more workers should scale almost linearly until tsk's own per-task work (snapshot, workspace,
// network, proxy, container, collection) saturates the machine.
import { performance } from 'node:perf_hooks';
import { stopChild } from '../lib/harness.mjs';
import { figure } from '../lib/figures.mjs';

export const section = {
  name: 'throughput',
  docker: true, // runs containers: holds --lock while it runs
  title: 'Throughput with 1, 2 and 4 worker processes',
  about:
    '`sleep 10` tasks (script agent, warm image) queued at once with one `tsk add -a script,script,…`; N `tsk-worker` processes ' +
    '(one task at a time each) on one Redis, started and ready before the clock starts; the clock stops when `tsk wait` on all ' +
    'of them returns. Ratio: tasks per second against one worker (ideal: N×). The ms columns are wall time per task.',
  async run(ctx) {
    const counts = ctx.quick ? [1, 2] : [1, 2, 4];
    const perWorker = ctx.quick ? 2 : 3;
    const repo = ctx.repo(50, 'bench-small');

    const batch = async (workers, tasks, prompt, concurrency = 1) => {
      const started = await Promise.all(Array.from({ length: workers }, (_, k) => ctx.startWorker(`${workers}x${concurrency}-${k}`, { cwd: repo, concurrency })));
      try {
        const t0 = performance.now();
        const out = (await ctx.tsk(['add', '-a', Array(tasks).fill('script').join(','), '-n', `sleep-${workers}`, '-p', prompt], { cwd: repo })).stdout;
        const ids = [...out.matchAll(/Queued (\S+) /g)].map((m) => m[1]);
        if (ids.length !== tasks) throw new Error(`tsk add queued ${ids.length} of ${tasks} tasks: ${out}`);
        const waited = await ctx.tsk(['wait', ...ids], { cwd: repo, allowFail: true });
        const elapsed = performance.now() - t0;
        if (waited.code !== 0) throw new Error(`tasks did not all complete (tsk wait exit ${waited.code}):\n${waited.stdout}${waited.stderr}`);
        return elapsed;
      } finally {
        await Promise.all(started.map((worker) => stopChild(worker)));
      }
    };

    await ctx.tsk(['list'], { cwd: repo }); // the embedded Redis starts here, not in several workers at once
    ctx.progress('throughput: warm-up task (builds the script image if needed)');
    await batch(1, 1, 'true');
    const perTask = new Map();
    for (const workers of counts) {
      const tasks = workers * perWorker;
      ctx.progress(`throughput: ${workers} worker(s), ${tasks} tasks`);
      perTask.set(workers, (await batch(workers, tasks, 'sleep 10')) / tasks);
    }
    // One worker process running two at once (`-w 2`): what the worker's own concurrency gives.
    ctx.progress(`throughput: 1 worker running 2 at once, ${2 * perWorker} tasks`);
    const pair = (await batch(1, 2 * perWorker, 'sleep 10', 2)) / (2 * perWorker);
    const one = perTask.get(1);
    const figures = counts
      .filter((n) => n > 1)
      .map((n) =>
        figure({
          name: `${n} workers, tasks per second`,
          baseline: '1 worker',
          measured: [perTask.get(n)],
          base: [one],
          ratios: [one / perTask.get(n)],
          target: n === 2 ? { min: 1.8 } : undefined,
          note: `${n * perWorker} tasks; ${((one / perTask.get(n) / n) * 100).toFixed(0)}% of ${n}× one worker`,
        }),
      );
    figures.push(
      figure({
        name: '1 worker, 2 at once (-w 2), tasks per second',
        baseline: '1 worker',
        measured: [pair],
        base: [one],
        ratios: [one / pair],
        note: `${2 * perWorker} tasks; ${((one / pair / 2) * 100).toFixed(0)}% of 2× one at a time`,
      }),
    );
    return figures;
  },
};

await (await import('../lib/runner.mjs')).runIfMain(import.meta.url, section);
