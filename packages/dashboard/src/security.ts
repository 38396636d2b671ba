// What keeps the dashboard to its own user: the Host check (DNS rebinding), the token exchanged for a
// cookie, the refusal of cross-site writes, and the headers every answer carries. Whatever Redis holds is
// hostile text; these rules make sure the page that shows it is the only thing that can act.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { ErrorJson } from './api-contract.js';

/** The session cookie: an HMAC of the token (never the token itself), HTTP-only, SameSite=Strict. */
export const SESSION_COOKIE = 'tsk_session';

/** The header every request that changes something carries (a form or an `<img>` cannot set it). */
export const REQUEST_HEADER = 'x-tsk-request';

/** No inline script or style, nothing from elsewhere: hostile text in the page stays text. */
export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/** Whether `host` (an address or a name to listen on) is this machine's loopback only. */
export function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (bare === 'localhost' || bare === '::1') return true;
  return isIP(bare) === 4 && bare.startsWith('127.');
}

/** Whether `host` listens on every address (it then also answers on loopback). */
function isWildcard(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '');
  return bare === '0.0.0.0' || bare === '::';
}

/**
 * The host names a request's `Host` may carry: the bound address (unless it is a wildcard, which names no
 * one host), the loopback names when loopback reaches the server, and `[dashboard] hosts`. Lower case, no port.
 */
export function allowedHostNames(boundHost: string, extra: readonly string[]): Set<string> {
  const names = new Set(extra.map((name) => name.toLowerCase()));
  const bare = boundHost.replace(/^\[|\]$/g, '').toLowerCase();
  if (!isWildcard(bare)) names.add(bare);
  if (isLoopback(bare) || isWildcard(bare)) for (const name of ['localhost', '127.0.0.1', '::1']) names.add(name);
  return names;
}

/** The host name and port of a `Host` header (`[::1]:7777` → `::1`, 7777); undefined when malformed. */
export function parseHostHeader(value: string | undefined): { name: string; port: number | undefined } | undefined {
  if (value === undefined || value.length > 300) return undefined;
  const match = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?$/.exec(value);
  if (match === null) return undefined;
  const name = match[1]!.replace(/^\[|\]$/g, '').toLowerCase();
  return { name, port: match[2] === undefined ? undefined : Number(match[2]) };
}

function refuse(res: Response, status: number, error: string, hint?: string): void {
  const body: ErrorJson = hint === undefined ? { error } : { error, hint };
  res.status(status).type('application/json').send(JSON.stringify(body));
}

/**
 * Refuse a request whose `Host` is not one of `allowed` on `port` (421): a page on another site whose name
 * was pointed at this address (DNS rebinding) sends its own name, so it never reads an answer.
 */
export function hostCheck(allowed: ReadonlySet<string>, port: number): RequestHandler {
  return (req, res, next) => {
    const host = parseHostHeader(req.headers.host);
    if (host === undefined || !allowed.has(host.name) || (host.port !== undefined && host.port !== port)) {
      refuse(res, 421, 'This dashboard does not answer to that host name', 'open it by its address, or add the name to [dashboard] hosts');
      return;
    }
    next();
  };
}

/** The headers of every answer: the CSP, no sniffing, no referrer, no framing, nothing cached. */
export const securityHeaders: RequestHandler = (_req, res, next) => {
  res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
  res.setHeader('Cache-Control', 'no-store');
  next();
};

/** The cookie value a token gives: a keyed hash, so the cookie never holds the token and a new token ends old sessions. */
export function sessionValue(token: string): string {
  return createHmac('sha256', token).update('tsk-dashboard-session-v1').digest('base64url');
}

/** Compare two secrets in constant time (their lengths are not secret: both are hashed first). */
export function sameSecret(given: string, expected: string): boolean {
  const a = createHmac('sha256', 'tsk-compare').update(given).digest();
  const b = createHmac('sha256', 'tsk-compare').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** One cookie's value from a `Cookie` header. */
export function cookieOf(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim();
  }
  return undefined;
}

/** The `Set-Cookie` value of a session (`secure` when the page came over HTTPS, e.g. behind a proxy). */
export function sessionCookie(value: string, secure: boolean): string {
  return `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}

export const CLEARED_SESSION_COOKIE = `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`;

/** Paths reachable without a session: the login form and what it needs. */
const OPEN_PATHS = new Set(['/login', '/style.css', '/favicon.ico']);

/**
 * With a token, every request needs the session cookie: the API answers 401, a page sends the browser to
 * `/login`. Without a token (loopback only) everyone who reaches the address is the user.
 */
export function requireSession(token: string | undefined): RequestHandler {
  const expected = token === undefined ? undefined : sessionValue(token);
  return (req, res, next) => {
    if (expected === undefined || OPEN_PATHS.has(req.path)) {
      next();
      return;
    }
    const given = cookieOf(req.headers.cookie, SESSION_COOKIE);
    // Scripts and Prometheus send the token itself as a bearer token (a header: never in a URL).
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if ((given !== undefined && sameSecret(given, expected)) || (bearer !== undefined && token !== undefined && sameSecret(bearer, token))) {
      next();
      return;
    }
    if (req.path.startsWith('/api/') || req.method !== 'GET') {
      refuse(res, 401, 'Log in first', 'open the dashboard and enter its token');
      return;
    }
    res.redirect(302, '/login');
  };
}

/** Whether a request comes from a page of this very origin (when the browser says where it comes from). */
function sameOrigin(req: Request): boolean {
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return false;
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  // A form posted under `Referrer-Policy: no-referrer` says `Origin: null` (Chromium); the browser's own
  // Sec-Fetch-Site then tells where it came from, and only same-origin passes.
  if (origin === 'null') return site === 'same-origin';
  const host = req.headers.host;
  if (host === undefined) return false;
  try {
    // `URL.host` leaves out a default port, as browsers do in `Host`: the two name one origin when equal.
    const url = new URL(origin);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.host.toLowerCase() === host.toLowerCase();
  } catch {
    return false;
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Requests that change something must come from this origin, carry `X-Tsk-Request: 1` and a JSON body: a
 * form on another site can do none of the three (and a script there cannot read or send them without CORS,
 * which this server never grants). The login form is the one form this server takes.
 */
export function sameOriginWrites(): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    if (SAFE_METHODS.has(req.method)) {
      next();
      return;
    }
    if (!sameOrigin(req)) {
      refuse(res, 403, 'Cross-site request refused');
      return;
    }
    if (req.path === '/login' || req.path === '/logout') {
      next();
      return;
    }
    if (req.headers[REQUEST_HEADER] !== '1' || !(req.headers['content-type'] ?? '').toLowerCase().startsWith('application/json')) {
      refuse(res, 403, 'Refused: a request that changes something must be sent by the dashboard page', 'send Content-Type: application/json and X-Tsk-Request: 1');
      return;
    }
    next();
  };
}
