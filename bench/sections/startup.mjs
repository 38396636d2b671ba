// CLI start-up: what a user pays for every tsk command before it does anything, against starting Node
// itself (`node -e ''`), which no Node CLI can beat. `tsk list` runs on an empty queue with the run's
// embedded Redis already up, as in a `watch tsk list` loop.
import { nodeBaseline, run, tskBin } from '../lib/harness.mjs';
import { figure } from '../lib/figures.mjs';

export const section = {
  name: 'startup',
  title: 'CLI start-up',
  about: "Each command against a bare `node -e ''` started just before it. `tsk list`: empty queue, the run's embedded Redis running.",
  async run(ctx) {
    const samples = ctx.quick ? 3 : 10;
    const cwd = ctx.repo(50, 'bench-small');
    await ctx.tsk(['list'], { cwd }); // starts the embedded Redis: not part of any figure
    const commands = [
      { argv: ['--version'], target: { max: 3 } },
      { argv: ['--help'], target: { max: 3 } },
      { argv: ['list'], target: { max: 5 } },
    ];
    const series = commands.map(() => ({ measured: [], base: [] }));
    for (let i = 0; i < samples; i++) {
      ctx.progress(`startup ${i + 1}/${samples}`);
      for (const [k, command] of commands.entries()) {
        series[k].base.push((await nodeBaseline()).ms);
        series[k].measured.push((await ctx.tsk(command.argv, { cwd })).ms);
      }
    }
    // A Redis that is not there must fail fast, not hang (this was a test's timing assertion): port 1 on
    // loopback refuses the connection at once.
    const unreachable = { measured: [], base: [] };
    for (let i = 0; i < Math.min(samples, 5); i++) {
      unreachable.base.push((await nodeBaseline()).ms);
      const result = await run(process.execPath, [tskBin, 'list'], { env: { ...ctx.env, TSK_REDIS_URL: 'redis://127.0.0.1:1' }, cwd, allowFail: true });
      if (result.code !== 1) throw new Error(`tsk list with an unreachable Redis exited ${result.code}, not 1:\n${result.stderr}`);
      unreachable.measured.push(result.ms);
    }
    return [
      ...commands.map((command, k) => figure({ name: `tsk ${command.argv.join(' ')}`, baseline: "node -e ''", ...series[k], target: command.target })),
      figure({ name: 'tsk list, Redis unreachable (exit 1)', baseline: "node -e ''", ...unreachable, note: 'connection refused on 127.0.0.1:1: the error comes without waiting for retries' }),
    ];
  },
};

await (await import('../lib/runner.mjs')).runIfMain(import.meta.url, section);
