import type { TaskView } from '@tsk/engine';
import { describe, expect, it } from 'vitest';
import { renderTaskTable, summarizeTasks } from './task-table.js';

function task(overrides: Partial<TaskView>): TaskView {
  return {
    id: 'Abc_1234',
    status: 'QUEUED',
    name: 'dark-mode',
    type: 'feat',
    agent: 'claude',
    stack: 'node',
    project: 'p',
    parent: undefined,
    createdAt: '2025-01-01T10:00:00.000Z',
    worker: undefined,
    startedAt: undefined,
    finishedAt: undefined,
    branch: undefined,
    commit: undefined,
    error: undefined,
    summary: undefined,
    noNetworkIsolation: false,
    signer: 'alice@laptop',
    baseCommit: undefined,
    resultSignature: undefined,
    resultSigner: undefined,
    usage: {},
    remote: undefined,
    requires: [],
    note: undefined,
    delayedUntil: undefined,
    delays: 0,
    ...overrides,
  };
}

describe('renderTaskTable', () => {
  it('should mark tasks running without network isolation', () => {
    const [, isolated, open] = renderTaskTable([task({}), task({ id: 'Open_123', noNetworkIsolation: true })], false);
    expect(isolated).not.toContain('[no-net-iso]');
    expect(open).toContain('dark-mode [no-net-iso]');
  });

  it('shows when a DELAYED task (rate limited) goes back on the queue, and counts it', () => {
    const now = new Date(2025, 4, 1, 12, 0);
    const until = new Date(2025, 4, 1, 14, 5).toISOString();
    const [header, delayed] = renderTaskTable([task({ status: 'DELAYED', delayedUntil: until, delays: 1 })], false, now);
    expect(delayed).toContain('DELAYED until 14:05');
    expect(delayed?.indexOf('DELAYED')).toBe(header?.indexOf('Status'));
    const tomorrow = new Date(2025, 4, 2, 9, 30).toISOString();
    expect(renderTaskTable([task({ status: 'DELAYED', delayedUntil: tomorrow })], false, now)[1]).toContain('DELAYED until 05-02 09:30');
    expect(summarizeTasks([task({ status: 'DELAYED' }), task({})])).toBe('2 tasks: 1 queued, 1 delayed');
  });

  it('says which results are on the shared remote (tsk fetch makes them branches)', () => {
    const [, remote] = renderTaskTable([task({ status: 'COMPLETE', branch: 'tsk/feat/x/Abc_1234', remote: 'git@git.example.com:team/app.git' })], false);
    expect(remote).toContain('tsk/feat/x/Abc_1234 (remote)');
  });

  const tasks = [
    task({}),
    task({
      id: 'Xyz_9876',
      status: 'COMPLETE',
      parent: 'Abc_1234',
      worker: 'host-1',
      branch: 'tsk/feat/dark-mode/Xyz_9876',
      startedAt: '2025-01-01T10:00:00.000Z',
      finishedAt: '2025-01-01T10:01:05.000Z',
    }),
  ];

  it('has the spec’s columns, aligned', () => {
    const [header, first, second] = renderTaskTable(tasks, false);
    expect(header?.split(/\s{2,}/)).toEqual(['ID', 'Name', 'Type', 'Status', 'Duration', 'Cost', 'Parent', 'Agent', 'By', 'Branch', 'Worker', 'Created']);
    expect(first?.split(/\s{2,}/).slice(0, 10)).toEqual(['Abc_1234', 'dark-mode', 'feat', 'QUEUED', '-', '-', '-', 'claude', 'alice@laptop', '-']);
    expect(second?.split(/\s{2,}/).slice(0, 11)).toEqual(['Xyz_9876', 'dark-mode', 'feat', 'COMPLETE', '1m05s', '-', 'Abc_1234', 'claude', 'alice@laptop', 'tsk/feat/dark-mode/Xyz_9876', 'host-1']);
    expect(header?.indexOf('Status')).toBe(first?.indexOf('QUEUED'));
  });

  it('colours statuses only on a terminal, without breaking alignment', () => {
    expect(renderTaskTable(tasks, false).join('\n')).not.toContain('\x1b[');
    const coloured = renderTaskTable(tasks, true);
    expect(coloured[2]).toContain('\x1b[32mCOMPLETE\x1b[0m');
    expect(coloured[2]?.replace(/\x1b\[\d+m/g, '')).toBe(renderTaskTable(tasks, false)[2]);
  });

  it('shows what Redis holds as one line of plain text per task, on a terminal too', () => {
    const hostile = task({
      name: 'x\x1b]0;pwned\x07\x1b[2Jname',
      worker: 'w\u202e1\r\nAbc_0000  forged  row',
      branch: 'tsk/b\x9b31m',
      status: 'COMPLETE\x1b[8m' as TaskView['status'],
    });
    for (const tty of [false, true]) {
      const [, row] = renderTaskTable([hostile], tty);
      const plain = row?.replaceAll('\x1b[32m', '').replaceAll('\x1b[0m', '') ?? '';
      expect(plain).not.toMatch(/[\x00-\x08\x0a-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/);
      expect(plain).toContain('xname');
      expect(plain).toContain('w1 Abc_0000  forged  row');
    }
  });
});

describe('the Note column', () => {
  it('appears only when a queued task waits for something, stripped like every cell', () => {
    expect(renderTaskTable([task({})], false)[0]).not.toContain('Note');
    const [header, waiting, plain] = renderTaskTable(
      [task({ note: 'no worker with label gpu seen in the last 10 min\x1b]0;x\x07' }), task({ id: 'Other_12' })],
      false,
    );
    expect(header?.split(/\s{2,}/).at(-1)).toBe('Note');
    expect(waiting?.endsWith('no worker with label gpu seen in the last 10 min')).toBe(true);
    expect(plain?.split(/\s{2,}/).at(-1)).toBe('-');
  });
});

describe('summarizeTasks', () => {
  it('counts tasks per status, leaving out statuses with none', () => {
    expect(summarizeTasks([])).toBe('No tasks');
    expect(summarizeTasks([task({}), task({ status: 'RUNNING' }), task({ status: 'QUEUED' })])).toBe('3 tasks: 2 queued, 1 running');
  });
});

describe('the Cost column', () => {
  it('shows Claude’s cost, Codex’s tokens, or a dash', () => {
    const cost = (usage: TaskView['usage']) => renderTaskTable([task({ usage })], false)[1]?.split(/\s{2,}/)[5];
    expect(cost({ costUsd: 0.4213, inputTokens: 1000 })).toBe('$0.42');
    expect(cost({ costUsd: 0.004 })).toBe('<$0.01');
    expect(cost({ inputTokens: 12_000, outputTokens: 3_200 })).toBe('15.2k tok');
    expect(cost({})).toBe('-');
  });
});
