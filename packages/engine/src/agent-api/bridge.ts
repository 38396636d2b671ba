import { writeFile } from 'node:fs/promises';

/** Where the gateway's socket is mounted in the sandbox. */
export const GATEWAY_SOCKET_PATH = '/tsk/agent-api.sock';
/** Where the bridge script is mounted (read-only). */
export const BRIDGE_SCRIPT_PATH = '/tsk/agent-api-bridge.cjs';
/** The sandbox-local port the bridge listens on: each sandbox has its own network namespace. */
export const BRIDGE_PORT = 4180;
/** The agent's API base URL inside the sandbox. */
export const BRIDGE_URL = `http://127.0.0.1:${BRIDGE_PORT}`;

/**
 * Runs in the sandbox, with the Node.js the agent layers install: listens on 127.0.0.1:<port>, passes
 * each connection on to the gateway's unix socket, and once listening runs the command it was given
 * (so the agent never starts before its API answers), passing signals on and exiting with its status.
 */
const BRIDGE_SCRIPT = `'use strict';
// tsk agent API bridge: 127.0.0.1:<port> in the sandbox -> the gateway's unix socket outside it.
const net = require('net');
const os = require('os');
const { spawn } = require('child_process');
const [port, socket, ...command] = process.argv.slice(2);
const server = net.createServer((client) => {
  const upstream = net.connect(socket);
  const end = () => { client.destroy(); upstream.destroy(); };
  client.on('error', end);
  upstream.on('error', end);
  client.pipe(upstream).pipe(client);
});
server.on('error', (error) => { console.error('tsk: agent API bridge: ' + error.message); process.exit(125); });
server.listen(Number(port), '127.0.0.1', () => {
  const child = spawn(command[0], command.slice(1), { stdio: 'inherit' });
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('error', (error) => { console.error('tsk: cannot start ' + command[0] + ': ' + error.message); process.exit(127); });
  child.on('exit', (code, signal) => process.exit(code === null ? 128 + (os.constants.signals[signal] || 0) : code));
});
`;

/** Write the bridge script where it is mounted from. */
export async function writeBridgeScript(path: string): Promise<void> {
  await writeFile(path, BRIDGE_SCRIPT, { mode: 0o644 });
}

/** `command` run behind the bridge; an image without Node.js (a replaced agent layer) says what is missing. */
export function bridgedCommand(command: readonly string[]): string[] {
  const script = 'command -v node >/dev/null 2>&1 || { echo "tsk: the agent API bridge needs Node.js (node) in the image" >&2; exit 127; }; exec node "$0" "$@"';
  return ['sh', '-c', script, BRIDGE_SCRIPT_PATH, String(BRIDGE_PORT), GATEWAY_SOCKET_PATH, ...command];
}
