import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fileLogSink } from './file-log-sink.js';

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('fileLogSink', () => {
  it('should write every line, in order, with its time and source, by the time close resolves', async () => {
    dir = mkdtempSync(join(tmpdir(), 'tsk-file-log-'));
    const path = join(dir, 'logs', 'Abc_1234.log');
    const sink = fileLogSink(path);
    sink.write('tsk', 'Running on worker w1');
    for (let i = 0; i < 1000; i++) sink.write('agent', `line ${i}`);
    await new Promise((resolve) => setImmediate(resolve));
    sink.write('warn', 'last');
    await sink.close();

    const lines = readFileSync(path, 'utf8').split('\n');
    expect(lines).toHaveLength(1003);
    expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z tsk Running on worker w1$/);
    expect(lines.slice(1, 1001).map((line) => line.split(' ').slice(1).join(' '))).toEqual(Array.from({ length: 1000 }, (_, i) => `agent line ${i}`));
    expect(lines[1001]).toMatch(/ warn last$/);
    expect(lines[1002]).toBe('');
  });
});
