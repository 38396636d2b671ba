import { describe, expect, it } from 'vitest';
import { configKeyShapes } from './command-shapes.js';
import { commandCases, configCases, sampleCases, type CommandShape } from './fuzz-cases.js';

const add: CommandShape = {
  id: 'add',
  strict: true,
  args: [],
  flags: [
    { name: 'prompt', kind: 'string' },
    { name: 'agent', kind: 'string' },
    { name: 'max-turns', kind: 'integer', min: 1 },
    { name: 'repo', kind: 'directory' },
    { name: 'wait', kind: 'boolean', allowNo: false },
  ],
};

describe('fuzz cases', () => {
  it('derive malformed values from each flag kind, on an otherwise valid command line', () => {
    const cases = commandCases(add);
    const ids = cases.map((fuzzCase) => fuzzCase.id);
    expect(ids).toContain('add --max-turns abc');
    expect(ids).toContain('add --max-turns below its minimum');
    expect(ids).toContain('add --repo a file');
    expect(ids).toContain('add --wait negated');
    expect(ids).toContain('add --agent option-injection');
    // The prompt is free text: only its missing value is malformed.
    expect(ids.filter((id) => id.startsWith('add --prompt '))).toEqual(['add --prompt without a value']);
    expect(cases.find((fuzzCase) => fuzzCase.id === 'add --max-turns below its minimum')?.argv).toEqual(['add', '-p', 'fuzz prompt', '--agent', 'no-op', '--max-turns=0']);
  });

  it('put each configuration key in every table that takes it, with a value of another type', () => {
    const schema = { server: { workers: { default: 1, format: 'positiveInteger' } }, agent: { default: 'claude', format: 'agentName', env: 'TSK_AGENT' } };
    const keys = configKeyShapes(schema);
    expect(keys).toEqual([
      { path: ['server', 'workers'], defaultKind: 'number', format: 'positiveInteger', env: undefined },
      { path: ['agent'], defaultKind: 'string', format: 'agentName', env: 'TSK_AGENT' },
    ]);
    const cases = configCases(keys, [keys[1]!], 'repo');
    expect(cases.find((fuzzCase) => fuzzCase.id === 'user tsk.toml server.workers = negative')?.files).toEqual([{ root: 'config', path: 'tsk/tsk.toml', text: '[server]\nworkers = -1\n' }]);
    expect(cases.find((fuzzCase) => fuzzCase.id === 'user tsk.toml [project] agent = a number')?.files?.[0]?.text).toBe('[project.repo]\nagent = 42\n');
    expect(cases.find((fuzzCase) => fuzzCase.id === '.tsk/tsk.toml agent = a number')?.files?.[0]).toEqual({ root: 'repo', path: '.tsk/tsk.toml', text: 'agent = 42\n' });
    expect(cases.some((fuzzCase) => fuzzCase.env?.TSK_AGENT === '   ')).toBe(true);
  });

  it('sample the same cases for the same seed, all of them when the count covers them', () => {
    const cases = commandCases(add);
    expect(sampleCases(cases, 5, 3)).toEqual(sampleCases(cases, 5, 3));
    expect(sampleCases(cases, 5, 3)).not.toEqual(sampleCases(cases, 5, 4));
    expect(sampleCases(cases, cases.length + 1, 3)).toEqual(cases);
  });
});
