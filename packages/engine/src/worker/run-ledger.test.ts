import { mkdtemp, readdir, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_JOB_AGE_MS, RunLedger } from './run-ledger.js';

const dirs: string[] = [];
async function ledgerDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tsk-ledger-'));
  dirs.push(dir);
  return dir;
}

afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

describe('RunLedger', () => {
  it('should let a task id start once on this machine, and say what it knew when asked again', async () => {
    const dir = await ledgerDir();
    const ledger = new RunLedger(dir);
    const firsts = await Promise.all([ledger.begin('Abc_1234'), new RunLedger(dir).begin('Abc_1234')]);
    expect(firsts.sort()).toEqual(['new', 'started']);
    await ledger.finish('Abc_1234');
    expect(await ledger.begin('Abc_1234')).toBe('finished');
    await expect(ledger.begin('../../etc')).rejects.toThrow('not a task id');
  });

  it('should let a task this machine delayed run once more per delay, and nothing else', async () => {
    const dir = await ledgerDir();
    const ledger = new RunLedger(dir);
    expect(await ledger.begin('Del_1234')).toBe('new');
    expect(await ledger.delays('Del_1234')).toBe(0);
    await ledger.delayed('Del_1234', 1);
    expect(await ledger.delays('Del_1234')).toBe(1);
    // Two workers of this machine given the job back at once: one runs it.
    const resumed = await Promise.all([ledger.begin('Del_1234'), new RunLedger(dir).begin('Del_1234')]);
    expect(resumed.sort()).toEqual(['resumed', 'started']);
    expect(await ledger.begin('Del_1234')).toBe('started');
    expect(await ledger.delays('Del_1234')).toBe(1);
    await ledger.delayed('Del_1234', 2);
    expect(await ledger.begin('Del_1234')).toBe('resumed');
    await ledger.finish('Del_1234');
    expect(await ledger.begin('Del_1234')).toBe('finished');
    // Only what this machine wrote counts: a task it never delayed does not become resumable.
    await ledger.begin('Ran_1234');
    expect(await ledger.begin('Ran_1234')).toBe('started');
  });

  it('should forget only entries older than the longest a job may wait', async () => {
    const dir = await ledgerDir();
    const ledger = new RunLedger(dir);
    await ledger.begin('Old_1234');
    await ledger.delayed('Old_1234', 1);
    await ledger.begin('New_1234');
    const old = (Date.now() - MAX_JOB_AGE_MS - 2 * 24 * 3600_000) / 1000;
    await utimes(join(dir, 'Old_1234'), old, old);
    await utimes(join(dir, 'Old_1234.resume'), old, old);
    await ledger.prune();
    expect(await readdir(dir)).toEqual(['New_1234']);
  });
});
