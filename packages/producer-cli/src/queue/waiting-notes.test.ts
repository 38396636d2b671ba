import type { TaskView } from '@tsk/engine';
import { describe, expect, it } from 'vitest';
import { waitingNotes } from './waiting-notes.js';

const view = (id: string, note: string | undefined, status: TaskView['status'] = 'QUEUED') => ({ id, note, status }) as TaskView;

describe('waitingNotes', () => {
  it('prints a line when what a task waits for changes, once, as plain text', () => {
    const lines: string[] = [];
    const onPoll = waitingNotes((line) => lines.push(line));
    onPoll([view('Abc_1234', 'no worker with label gpu seen in the last 10 min'), view('Xyz_9876', undefined)]);
    onPoll([view('Abc_1234', 'no worker with label gpu seen in the last 10 min'), view('Xyz_9876', undefined)]);
    onPoll([view('Abc_1234', 'waiting for a worker with label gpu\x1b[2J'), view('Xyz_9876', undefined, 'RUNNING')]);
    onPoll([view('Abc_1234', undefined, 'RUNNING')]);
    expect(lines).toEqual([
      'Abc_1234 QUEUED: no worker with label gpu seen in the last 10 min',
      'Abc_1234 QUEUED: waiting for a worker with label gpu',
    ]);
  });
});
