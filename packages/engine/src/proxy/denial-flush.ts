import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { denialHost, type ProxyDenial } from './proxy-denials.js';

/**
 * A deterministic end to a task's denial reading. Squid logs a denied request when it answers it, and
 * its denial log passes through one FIFO, one `cat` and Docker's log, in order. So once a task's sandbox
 * has exited, a request tsk itself sends the proxy afterwards, and that the proxy denies, is logged after
 * every request the sandbox saw denied: when its line arrives on the log stream, the stream has delivered
 * all of the task's. This replaces a fixed wait (it cost every task 300 ms, and was only a guess).
 *
 * The marker's name is always denied, whatever the task's `squid_conf` allows: tsk puts {@link FLUSH_RULE}
 * before the configuration. Each marker carries a fresh random nonce, so neither a sandbox nor another
 * process's marker can pass for this one.
 */

/** The host every flush marker asks for (`.invalid`: never a real name). */
export const FLUSH_HOST = 'tsk-flush.invalid';

/** Squid configuration tsk puts before every proxy configuration: flush markers are always denied, so logged. */
export const FLUSH_RULE = [
  "# tsk: requests for this name are always denied, so logged: tsk's marker that the denial log is read up to here.",
  `acl tsk_flush dstdomain ${FLUSH_HOST}`,
  'http_access deny tsk_flush',
  '',
].join('\n');

/** The Squid configuration a proxy runs: {@link FLUSH_RULE} first (http_access rules match in order), then `squidConf`. */
export function withFlushRule(squidConf: string): string {
  return `${FLUSH_RULE}${squidConf}`;
}

/** A fresh marker nonce: 16 hex characters. */
export function newFlushNonce(): string {
  return randomBytes(8).toString('hex');
}

/** The nonce of a flush marker's denial line, or undefined for any other denial. */
export function flushNonce(denial: ProxyDenial): string | undefined {
  if (denial.method !== 'GET' || denialHost(denial) !== FLUSH_HOST) return undefined;
  return /^http:\/\/tsk-flush\.invalid\/([0-9a-f]{16})$/.exec(denial.target)?.[1];
}

/**
 * Ask the proxy at `address:port` for the marker of `nonce` (a plain HTTP request it denies). Resolves
 * `answered` once the proxy answered (its line is then logged), `failed` when the connection failed, and
 * `timeout` when nothing answered within `timeoutMs` (an engine in a VM, a process in another container:
 * nothing routes there).
 */
export function sendFlushMarker(address: string, port: number, nonce: string, timeoutMs: number): Promise<'answered' | 'failed' | 'timeout'> {
  return new Promise((resolve) => {
    const socket = connect({ host: address, port });
    const done = (answered: 'answered' | 'failed' | 'timeout') => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answered);
    };
    const timer = setTimeout(() => done('timeout'), timeoutMs);
    socket.once('connect', () => {
      socket.write(`GET http://${FLUSH_HOST}/${nonce} HTTP/1.1\r\nHost: ${FLUSH_HOST}\r\nConnection: close\r\n\r\n`);
    });
    // The status line is enough: Squid logs the request when it has sent the answer.
    socket.once('data', () => done('answered'));
    socket.once('error', () => done('failed'));
    socket.once('close', () => done('failed'));
  });
}
