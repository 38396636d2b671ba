import { deriveTaskView, type TaskView, type WorkerInfo } from '@tsk/engine/queue';
import { describe, expect, it } from 'vitest';
import type { TaskEventJson, WorkerListJson } from './api-contract.js';
import { TaskFeed } from './task-feed.js';

function view(id: string, status: TaskView['status'], extra: Partial<TaskView> = {}): TaskView {
  return deriveTaskView(
    {
      id,
      status,
      name: id,
      type: 'generic',
      agent: 'script',
      stack: 'default',
      project: 'p',
      parent: undefined,
      createdAt: '2026-01-01T00:00:00.000Z',
      worker: undefined,
      startedAt: status === 'RUNNING' ? new Date(Date.now() - 5000).toISOString() : undefined,
      finishedAt: undefined,
      branch: undefined,
      commit: undefined,
      error: undefined,
      summary: undefined,
      cancelRequested: false,
      noNetworkIsolation: false,
      signer: 'me',
      baseCommit: undefined,
      requires: [],
      note: undefined,
      resultSignature: undefined,
      resultSigner: undefined,
      remote: undefined,
      delayedUntil: undefined,
      delays: 0,
      usage: {},
      ...extra,
    } as Parameters<typeof deriveTaskView>[0],
    {},
  );
}

describe('TaskFeed', () => {
  it('polls once per tick for every listener, sends the full list first, then only changes, and stops with the last listener', async () => {
    let tasks = [view('Aaaaaaa1', 'QUEUED'), view('Aaaaaaa2', 'RUNNING')];
    const workers: WorkerInfo[] = [];
    let polls = 0;
    const feed = new TaskFeed({ list: async () => (polls++, tasks), workers: async () => workers }, { pollMs: 20 });
    const events: [string, TaskEventJson][] = [];
    const workerEvents: WorkerListJson[] = [];
    const listener = (name: string) => ({ tasks: (event: TaskEventJson) => events.push([name, event]), workers: (event: WorkerListJson) => workerEvents.push(event) });
    const stopA = feed.subscribe(listener('a'));
    const stopB = feed.subscribe(listener('b'));
    await until(() => events.length >= 2);
    expect(events.map(([name, event]) => [name, event.full, event.changed.length])).toEqual([['a', true, 2], ['b', true, 2]]);
    expect(workerEvents).toHaveLength(2);
    // A running task's duration grows at every poll: that alone is no change.
    const pollsBefore = polls;
    await until(() => polls >= pollsBefore + 3);
    expect(events).toHaveLength(2);
    tasks = [view('Aaaaaaa2', 'RUNNING', { worker: 'w' }), view('Aaaaaaa3', 'QUEUED')];
    await until(() => events.length >= 4);
    expect(events.slice(2).map(([name, event]) => [name, event.full, event.changed.map((task) => task.id), event.removed])).toEqual([
      ['a', false, ['Aaaaaaa2', 'Aaaaaaa3'], ['Aaaaaaa1']],
      ['b', false, ['Aaaaaaa2', 'Aaaaaaa3'], ['Aaaaaaa1']],
    ]);
    stopA();
    stopB();
    await new Promise((resolve) => setTimeout(resolve, 60));
    const stopped = polls;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(polls).toBe(stopped);
    // The next listener starts it again, with a full event.
    const stopC = feed.subscribe(listener('c'));
    await until(() => events.length >= 5);
    expect(events[4]![0]).toBe('c');
    expect(events[4]![1].full).toBe(true);
    stopC();
    await feed.close();
  });

  it('keeps going when the queue fails, saying so once', async () => {
    let fail = true;
    const said: string[] = [];
    const feed = new TaskFeed(
      {
        list: async () => {
          if (fail) throw new Error('Connection is closed.');
          return [];
        },
        workers: async () => [],
      },
      { pollMs: 10, onError: (line) => said.push(line) },
    );
    const events: TaskEventJson[] = [];
    feed.subscribe({ tasks: (event) => events.push(event), workers: () => undefined });
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(said).toEqual(['cannot read the queue: Connection is closed.']);
    fail = false;
    await until(() => events.length > 0);
    expect(events[0]).toEqual({ full: true, changed: [], removed: [] });
    expect(said).toEqual(['cannot read the queue: Connection is closed.', 'the queue answers again']);
    await feed.close();
  });
});

async function until(probe: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
