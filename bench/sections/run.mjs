// What `tsk run` adds beyond Docker: a repeated no-op task on an unchanged 10,000-file tree, its image
// warm, against `docker run --rm` of the very image the task ran in (with the tree mounted), and that
// difference against a `cp -a` of the tree — the cost a user would pay to make a private copy by hand.
import { rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { run, watchContainerStarts } from '../lib/harness.mjs';
import { figure } from '../lib/figures.mjs';

export const section = {
  name: 'run',
  docker: true, // runs containers: holds --lock while it runs
  title: '`tsk run` overhead',
  about:
    '`tsk run --agent no-op` on an unchanged 10,000-file tree (warm image, repeated task), against `docker run --rm` of the ' +
    "same image with the tree bind-mounted (`true` as the command), and what tsk adds (tsk run − docker run) against `cp -a` " +
    'of the tree. Each round takes `cp -a`, then `docker run`, then `tsk run`.',
  async run(ctx) {
    const rounds = ctx.quick ? 2 : 5;
    const repo = ctx.repo(10_000);
    const project = basename(repo);
    const events = watchContainerStarts();
    await events.ready;
    const tskRun = async (label) => {
      const started = Date.now();
      const result = await ctx.tsk(['run', '--repo', repo, '--agent', 'no-op', '-n', label, '-p', `bench ${label}`], { cwd: repo });
      const start = events.find((e) => e.at >= started && (e.image ?? '').startsWith(`tsk/${project}/`));
      return { ms: result.ms, image: start?.image };
    };
    try {
      ctx.progress('run: warm-up task (builds the image if needed)');
      const { image } = await tskRun('warm-up');
      if (!image) throw new Error(`no container start seen for the warm-up task's image tsk/${project}/…`);
      const scratch = join(ctx.work, 'scratch');
      const s = { cp: [], docker: [], tsk: [] };
      for (let round = 0; round < rounds; round++) {
        ctx.progress(`run: round ${round + 1}/${rounds}`);
        s.cp.push((await run('cp', ['-a', repo, scratch])).ms);
        rmSync(scratch, { recursive: true, force: true });
        const name = ctx.containerName();
        s.docker.push((await run('docker', ['run', '--rm', '--name', name, '--network', 'none', '-v', `${repo}:/workspace/${project}:ro`, '-w', `/workspace/${project}`, image, 'true'])).ms);
        s.tsk.push((await tskRun(`round-${round}`)).ms);
      }
      const added = s.tsk.map((t, i) => t - s.docker[i]);
      return [
        figure({
          name: 'tsk run − docker run, 10k files',
          baseline: 'cp -a',
          measured: added,
          base: s.cp,
          target: { max: 0.5 },
          note: 'the tsk column is what tsk adds beyond `docker run` (median of tsk run − docker run in the same round)',
        }),
        figure({ name: 'tsk run, 10k files', baseline: 'docker run --rm', measured: s.tsk, base: s.docker }),
      ];
    } finally {
      await events.stop();
    }
  },
};

await (await import('../lib/runner.mjs')).runIfMain(import.meta.url, section);
