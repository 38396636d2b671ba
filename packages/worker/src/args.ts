import { isIP } from 'node:net';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { InputError } from '@tsk/engine';

/** The worker's command line, checked. */
export interface WorkerArgs {
  help: boolean;
  workers: number | undefined;
  name: string | undefined;
  quitWhenEmpty: boolean;
  health: { host: string; port: number } | undefined;
  graceSeconds: number;
  /** Check, before taking tasks, that the Docker engine sees the data dir at the same path. */
  checkDataDir: boolean;
}

export const USAGE = `Usage: tsk-worker [options]

Run tasks from the tsk queue (Redis from [redis] url / TSK_REDIS_URL, else the embedded tsk-redis).

Options:
  -w, --workers <n>        tasks to run at once (default: [server] workers)
      --name <name>        worker name (default: <hostname>-<pid>-<random>)
  -q, --quit-when-empty    exit once nothing is queued or running
      --health-host <ip>   address of the /healthz endpoint (default: 127.0.0.1)
      --health-port <port> port of the /healthz endpoint (default: 0 = any free port)
      --no-health          no /healthz endpoint
      --grace <seconds>    on SIGTERM, how long running tasks may finish before they are cancelled (default: 300)
      --check-data-dir     first make sure the Docker engine sees the data dir at the same path (a worker
                           in a container: sandboxes mount workspaces from it; the worker image sets this)
  -h, --help               show this help
`;

/** The options `tsk-worker` takes (node's `parseArgs`); also what the input fuzzer derives its cases from. */
export const WORKER_OPTIONS = {
  workers: { type: 'string', short: 'w' },
  name: { type: 'string' },
  'quit-when-empty': { type: 'boolean', short: 'q', default: false },
  'health-host': { type: 'string', default: '127.0.0.1' },
  'health-port': { type: 'string', default: '0' },
  'no-health': { type: 'boolean', default: false },
  grace: { type: 'string', default: '300' },
  'check-data-dir': { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const satisfies ParseArgsConfig['options'];

function integer(value: string | undefined, option: string, min: number): number | undefined {
  if (value === undefined) return undefined;
  // Digits only: Number() would also take "0x10", "1e3" and "" (0).
  const number = /^[0-9]{1,15}$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isInteger(number) || number < min) throw new InputError(`${option} must be an integer ≥ ${min}, got ${JSON.stringify(value.slice(0, 40))}`);
  return number;
}

export function parseWorkerArgs(argv: string[]): WorkerArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: WORKER_OPTIONS,
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new InputError((error as Error).message, { hint: 'see tsk-worker --help' });
  }
  const host = values['health-host'] ?? '127.0.0.1';
  if (isIP(host) === 0) throw new InputError(`--health-host must be an IP address, got ${JSON.stringify(host.slice(0, 40))}`, { hint: 'e.g. 127.0.0.1, or 0.0.0.0 in a container' });
  const port = integer(values['health-port'], '--health-port', 0) ?? 0;
  if (port > 65535) throw new InputError(`--health-port must be at most 65535, got ${port}`);
  return {
    help: values.help ?? false,
    workers: integer(values.workers, '--workers', 1),
    name: values.name,
    quitWhenEmpty: values['quit-when-empty'] ?? false,
    health: values['no-health'] ? undefined : { host, port },
    graceSeconds: integer(values.grace, '--grace', 0) ?? 300,
    checkDataDir: values['check-data-dir'] ?? false,
  };
}
