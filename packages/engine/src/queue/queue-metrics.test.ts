import { describe, expect, it } from 'vitest';
import { TASK_STATUSES, type TaskStatus } from '../model/index.js';
import { METRICS_MAX_PROJECTS, queueMetrics } from './queue-metrics.js';
import type { TaskView } from './task-view.js';
import type { WorkerInfo } from './worker-registry.js';

function view(id: string, status: TaskStatus, overrides: Partial<TaskView> = {}): TaskView {
  return {
    id, status, name: 'demo', type: 'generic', agent: 'script', stack: 'default', project: 'demo', parent: undefined,
    createdAt: '2025-01-01T00:00:00.000Z', worker: undefined, startedAt: undefined, finishedAt: undefined, branch: undefined,
    commit: undefined, error: undefined, summary: undefined, noNetworkIsolation: false, signer: undefined, baseCommit: undefined,
    requires: [], note: undefined, resultSignature: undefined, resultSigner: undefined, remote: undefined, delayedUntil: undefined,
    delays: 0, usage: {}, ...overrides,
  };
}

function worker(name: string, concurrency: number | undefined, running: string[]): WorkerInfo {
  return { name, host: 'h', pid: 1, concurrency, running, labels: [], version: '0.1.0', startedAt: undefined, lastBeat: undefined, sinceBeatMs: 0, state: 'running' };
}

describe('queueMetrics', () => {
  it('counts tasks by state, project and agent, sums cost and tokens, and times durations and queue waits', () => {
    const metrics = queueMetrics(
      [
        view('a', 'COMPLETE', { startedAt: '2025-01-01T00:00:10.000Z', finishedAt: '2025-01-01T00:01:10.000Z', usage: { costUsd: 0.25, inputTokens: 100, outputTokens: 10 } }),
        view('b', 'COMPLETE', { usage: { costUsd: 0.5, inputTokens: -5, outputTokens: Number.NaN } }),
        view('c', 'RUNNING', { agent: 'claude', startedAt: '2025-01-01T00:00:02.000Z' }),
        view('d', 'QUEUED', { project: 'other-project' }),
      ],
      [worker('w1', 2, ['c']), worker('w2', undefined, [])],
    );
    const groups = metrics.tasks.filter((group) => group.count > 0);
    expect(groups).toEqual([
      { state: 'COMPLETE', project: 'demo', agent: 'script', count: 2, costUsd: 0.75, inputTokens: 100, outputTokens: 10 },
      { state: 'RUNNING', project: 'demo', agent: 'claude', count: 1, costUsd: 0, inputTokens: 0, outputTokens: 0 },
      { state: 'QUEUED', project: 'other-project', agent: 'script', count: 1, costUsd: 0, inputTokens: 0, outputTokens: 0 },
    ]);
    // Every state has a series, zero when no task is in it.
    expect(new Set(metrics.tasks.map((group) => group.state))).toEqual(new Set(TASK_STATUSES));
    expect(metrics.durations).toEqual([{ state: 'COMPLETE', seconds: 60 }]);
    expect(metrics.queueWaits).toEqual([10, 2]);
    expect(metrics).toMatchObject({ capacity: 2, running: 1, workerCount: 2, stoppingCount: 0 });
    expect(metrics.workers).toEqual([
      { name: 'w1', state: 'running', capacity: 2, running: 1 },
      { name: 'w2', state: 'running', capacity: 0, running: 0 },
    ]);
  });

  it('keeps label values bounded: the biggest projects by name, unknown agents and the rest as "other", no control characters', () => {
    const tasks = Array.from({ length: METRICS_MAX_PROJECTS + 20 }, (_, i) => view(`t${i}`, 'QUEUED', { project: `p${String(i).padStart(3, '0')}` }));
    tasks.push(view('big1', 'QUEUED', { project: 'p069' }), view('x', 'FAILED', { project: '\u001b[31mred\nproject', agent: 'rm -rf' }));
    const metrics = queueMetrics(tasks, []);
    const projects = new Set(metrics.tasks.filter((group) => group.count > 0).map((group) => group.project));
    expect(projects.size).toBe(METRICS_MAX_PROJECTS + 1);
    expect(projects.has('other')).toBe(true);
    expect(projects.has('p069')).toBe(true); // two tasks: among the biggest
    expect([...projects].some((project) => /[\u0000-\u001f]/.test(project))).toBe(false);
    expect(metrics.tasks.find((group) => group.state === 'FAILED' && group.count > 0)?.agent).toBe('other');
    expect(metrics.tasks.reduce((sum, group) => sum + group.count, 0)).toBe(tasks.length);
  });
});
