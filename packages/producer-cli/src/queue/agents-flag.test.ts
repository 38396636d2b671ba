import { InputError } from '@tsk/engine';
import { describe, expect, it } from 'vitest';
import { parseAgents } from './agents-flag.js';
import { taskIdsFrom } from './task-ids-arg.js';

describe('parseAgents', () => {
  it('makes one entry per listed agent, in order, repeats included; none means the configured agent', () => {
    expect(parseAgents(undefined)).toEqual([undefined]);
    expect(parseAgents('claude, codex,claude')).toEqual(['claude', 'codex', 'claude']);
    expect(parseAgents('script,script')).toEqual(['script', 'script']);
  });

  it('rejects unknown agents and empty entries', () => {
    expect(() => parseAgents('claude,gpt')).toThrow('Unknown agent "gpt"');
    expect(() => parseAgents('claude,')).toThrow(InputError);
  });
});

describe('taskIdsFrom', () => {
  it('checks ids and drops repeats', () => {
    expect(taskIdsFrom(['Abc_1234', 'Abc_1234', 'Zz9_0000'])).toEqual(['Abc_1234', 'Zz9_0000']);
    expect(() => taskIdsFrom(['nope'])).toThrow('"nope" is not a task id');
    expect(() => taskIdsFrom([])).toThrow('Give at least one task id');
  });
});
