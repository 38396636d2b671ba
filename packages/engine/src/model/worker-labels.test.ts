import { describe, expect, it } from 'vitest';
import { describeLabels, isWorkerLabel, labelListProblem, missingLabels, parseLabelArguments } from './worker-labels.js';

describe('worker labels', () => {
  it('accepts short lower-case tokens and nothing a terminal, a shell or Redis could read as more', () => {
    for (const label of ['gpu', 'arm64', 'cuda12.4', 'big_mem', 'x-large', '9']) expect(isWorkerLabel(label)).toBe(true);
    for (const label of ['', 'GPU', '-gpu', '.gpu', 'g pu', 'gpu,cuda', 'gpu\x1b[2J', 'g\u202epu', 'a'.repeat(33), 'gpu\n', 'ü', 42, null]) {
      expect(isWorkerLabel(label)).toBe(false);
    }
    expect(isWorkerLabel('a'.repeat(32))).toBe(true);
  });

  it('parses repeated and comma-separated --requires values, dropping blanks and repeats', () => {
    expect(parseLabelArguments(['gpu', 'cuda12, arm64', 'gpu', ' , '])).toEqual(['gpu', 'cuda12', 'arm64']);
    expect(parseLabelArguments([])).toEqual([]);
    expect(() => parseLabelArguments(['GPU'])).toThrow('"GPU" is not a label (1 to 32 characters of a-z 0-9 . _ -, starting with a letter or digit)');
    expect(() => parseLabelArguments(['gpu;rm -rf /'])).toThrow('is not a label');
    expect(() => parseLabelArguments(Array.from({ length: 17 }, (_, i) => `l${i}`))).toThrow('at most 16 labels');
  });

  it('says why a list from a job or a configuration file is not a list of labels', () => {
    expect(labelListProblem(['gpu', 'gpu'])).toBe('"gpu" is listed twice');
    expect(labelListProblem(['gpu', 7])).toBe('number is not a label (1 to 32 characters of a-z 0-9 . _ -, starting with a letter or digit)');
    expect(labelListProblem(['gpu', 'arm64'])).toBeUndefined();
  });

  it('names the labels a worker lacks, in the order the task asks for them', () => {
    expect(missingLabels(['gpu', 'arm64', 'big'], ['big', 'gpu'])).toEqual(['arm64']);
    expect(missingLabels(undefined, [])).toEqual([]);
    expect(describeLabels(['gpu'])).toBe('label gpu');
    expect(describeLabels(['gpu', 'arm64'])).toBe('labels gpu, arm64');
  });
});
