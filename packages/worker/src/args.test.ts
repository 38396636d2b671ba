import { describe, expect, it } from 'vitest';
import { parseWorkerArgs } from './args.js';

describe('parseWorkerArgs', () => {
  it('has defaults: configured concurrency, health on a free loopback port, 300s grace', () => {
    expect(parseWorkerArgs([])).toEqual({
      help: false,
      workers: undefined,
      name: undefined,
      quitWhenEmpty: false,
      health: { host: '127.0.0.1', port: 0 },
      graceSeconds: 300,
      checkDataDir: false,
    });
  });

  it('reads every option', () => {
    const args = parseWorkerArgs(['-w', '4', '--name', 'w1', '-q', '--health-host', '0.0.0.0', '--health-port', '8080', '--grace', '10', '--check-data-dir']);
    expect(args).toMatchObject({ workers: 4, name: 'w1', quitWhenEmpty: true, health: { host: '0.0.0.0', port: 8080 }, graceSeconds: 10, checkDataDir: true });
    expect(parseWorkerArgs(['--no-health']).health).toBeUndefined();
  });

  it('rejects bad values with the option and the rule', () => {
    expect(() => parseWorkerArgs(['-w', '0'])).toThrow('--workers must be an integer ≥ 1, got "0"');
    expect(() => parseWorkerArgs(['--health-port', '70000'])).toThrow('--health-port must be at most 65535');
    expect(() => parseWorkerArgs(['--bogus'])).toThrow(/Unknown option '--bogus'/);
    // Found by the input fuzzer: Number() took these.
    expect(() => parseWorkerArgs(['-w', '0x10'])).toThrow('--workers must be an integer ≥ 1, got "0x10"');
    expect(() => parseWorkerArgs(['--grace', '1e3'])).toThrow('--grace must be an integer ≥ 0, got "1e3"');
    expect(() => parseWorkerArgs(['--health-port', ''])).toThrow('--health-port must be an integer ≥ 0, got ""');
    expect(() => parseWorkerArgs(['--health-host=--upload-pack=x'])).toThrow('--health-host must be an IP address');
  });
});
