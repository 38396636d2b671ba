// Workspace preparation (snapshot + the task's workspace) on repositories of 1k/10k/50k files, against
// the two obvious ways to get a private copy of a tree: `cp -a` and `git clone --no-hardlinks`.
// "First task": nothing cached for this tree yet (a fresh tsk data dir). "Repeated task": a second task
// on the unchanged tree with the first one's data dir, which is where a cache of checkouts pays off.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { run } from '../lib/harness.mjs';
import { figure } from '../lib/figures.mjs';

/**
 * Snapshot + workspace for one task through the engine's public API, timed. The one place that knows
 * how the engine makes a workspace: when that changes, only this function changes. `dataDir` is where the
 * engine may cache across tasks (copy-on-write bases). With the engine's `TaskWorkspace` (copy-on-write:
 * a shared base checkout and an overlay volume per task) the figure is what a task waits for before its
 * container can start — base (made or reused) plus its layer and volume — unless TSK_WORKSPACES=copy;
 * without it, today's full clone. Resolves { ms, dispose }: dispose removes what the task made, untimed.
 */
export async function prepareTaskWorkspace(engine, { repo, taskId, dataDir, silent, docker }) {
  const start = performance.now();
  const snapshot = await engine.createSnapshot({ repoPath: repo, taskId, log: silent });
  const source = { kind: 'local', repoPath: snapshot.repoPath, ref: snapshot.ref, commit: snapshot.commit };
  const branch = `tsk/bench/ws/${taskId}`;
  const taskDir = join(dataDir, 'tasks', taskId);
  let release = async () => undefined;
  let how = 'full clone';
  if (typeof engine.TaskWorkspace?.prepare === 'function') {
    const options = { docker, dataDir, workerName: 'tskbench', ids: engine.agentIds(), mode: engine.workspaceModeFromEnv?.() ?? 'auto' };
    const workspace = await engine.TaskWorkspace.prepare(options, { id: taskId, branch }, source, taskDir, silent);
    const mount = await workspace.mount(engine.DEFAULT_BASE_IMAGE, silent);
    release = () => workspace.release();
    how = mount.volume ? 'copy-on-write layer over a shared base' : 'full clone (the engine cannot mount an overlay volume)';
  } else {
    await engine.prepareWorkspace({ source, dir: join(taskDir, 'repo'), branch, log: silent });
  }
  const ms = performance.now() - start;
  return {
    ms,
    how,
    dispose: async () => {
      await release();
      await engine.deleteSnapshotRef(repo, taskId);
      rmSync(taskDir, { recursive: true, force: true });
    },
  };
}

export const section = {
  name: 'workspace',
  title: 'Workspace preparation',
  about:
    'Snapshot + workspace as a task gets them (engine API, no container), against `cp -a` of the same tree and ' +
    '`git clone --no-hardlinks` of the repository, each taken just before. Trees: N files committed in folders of 100, ' +
    'plus 20 edited and 20 untracked files. First task: nothing cached; repeated task: the same unchanged tree again with ' +
    "the first task's tsk data dir.",
  async run(ctx) {
    const engine = await ctx.engine();
    const docker = engine.createDocker?.();
    if (typeof engine.TaskWorkspace?.prepare === 'function') {
      // The engine asks Docker once per process whether it can mount an overlay volume: asked here, untimed
      // (a task pays it once per worker, and `tsk run` once per task: the run section has that).
      const warm = await prepareTaskWorkspace(engine, { repo: ctx.repo(50, 'bench-small'), taskId: engine.newTaskId(), dataDir: join(ctx.work, 'ws-probe'), silent: engine.silentSink, docker });
      await warm.dispose();
    }
    const plan = ctx.quick
      ? [
          { files: 1_000, rounds: 2 },
          { files: 10_000, rounds: 1 },
        ]
      : [
          { files: 1_000, rounds: 3 },
          // The figures with a target get more than one pair: the disk's speed swings several-fold from one
          // minute to the next here (one 10k-file round gave 0.37× and the next 4.6×).
          { files: 10_000, rounds: 4 },
          { files: 50_000, rounds: 4 },
        ];
    const figures = [];
    for (const { files, rounds } of plan) {
      ctx.progress(`workspace: creating a ${files}-file repository`);
      const repo = ctx.repo(files);
      const scratch = join(ctx.work, 'scratch');
      const cp = async () => {
        const result = await run('cp', ['-a', repo, scratch]);
        rmSync(scratch, { recursive: true, force: true });
        return result.ms;
      };
      const clone = async () => {
        const result = await run('git', ['clone', '-q', '--no-hardlinks', repo, scratch]);
        rmSync(scratch, { recursive: true, force: true });
        return result.ms;
      };
      const how = new Set();
      const s = { cpFirst: [], cloneFirst: [], first: [], cpRepeat: [], cloneRepeat: [], repeat: [] };
      for (let round = 0; round < rounds; round++) {
        ctx.progress(`workspace ${files} files: round ${round + 1}/${rounds}`);
        const dataDir = join(ctx.work, `ws-data-${files}-${round}`);
        const made = [];
        try {
          // `cp -a` right before the task: it is the baseline with a target.
          s.cloneFirst.push(await clone());
          s.cpFirst.push(await cp());
          const first = await prepareTaskWorkspace(engine, { repo, taskId: engine.newTaskId(), dataDir, silent: engine.silentSink, docker });
          made.push(first);
          s.first.push(first.ms);
          how.add(first.how);
          s.cloneRepeat.push(await clone());
          s.cpRepeat.push(await cp());
          const repeat = await prepareTaskWorkspace(engine, { repo, taskId: engine.newTaskId(), dataDir, silent: engine.silentSink, docker });
          made.push(repeat);
          s.repeat.push(repeat.ms);
          how.add(repeat.how);
        } finally {
          for (const workspace of made) await workspace.dispose();
          rmSync(dataDir, { recursive: true, force: true });
        }
      }
      const size = `${files / 1000}k files`;
      figures.push(
        figure({ name: `first task, ${size}`, baseline: 'cp -a', measured: s.first, base: s.cpFirst, target: files >= 10_000 ? { max: 1.1 } : undefined, note: `workspace: ${[...how].join('; ')}` }),
        figure({ name: `first task, ${size}`, baseline: 'git clone --no-hardlinks', measured: s.first, base: s.cloneFirst }),
        figure({ name: `repeated task, ${size}`, baseline: 'cp -a', measured: s.repeat, base: s.cpRepeat }),
        figure({ name: `repeated task, ${size}`, baseline: 'git clone --no-hardlinks', measured: s.repeat, base: s.cloneRepeat }),
      );
    }
    return figures;
  },
};

await (await import('../lib/runner.mjs')).runIfMain(import.meta.url, section);
