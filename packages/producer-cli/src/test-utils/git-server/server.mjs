// A git server for tests: `git http-backend` (smart HTTP, fetch and push) behind Node's HTTP server.
// Repositories are the bare ones in GIT_PROJECT_ROOT (/srv/git): http://<host>:8080/<name>.git.
// With GIT_SERVER_USER and GIT_SERVER_PASSWORD set, every request needs that Basic auth.
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';

const root = process.env.GIT_PROJECT_ROOT ?? '/srv/git';
const user = process.env.GIT_SERVER_USER;
const password = process.env.GIT_SERVER_PASSWORD;
const expected = user && password ? `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` : undefined;

function fail(res, status, text) {
  res.writeHead(status, { 'Content-Type': 'text/plain' });
  res.end(`${text}\n`);
}

const server = createServer((req, res) => {
  if (expected !== undefined && req.headers.authorization !== expected) {
    res.setHeader('WWW-Authenticate', 'Basic realm="git"');
    return fail(res, 401, 'authentication required');
  }
  const url = new URL(req.url ?? '/', 'http://localhost');
  const env = {
    PATH: process.env.PATH,
    GIT_PROJECT_ROOT: root,
    GIT_HTTP_EXPORT_ALL: '1',
    REQUEST_METHOD: req.method ?? 'GET',
    PATH_INFO: decodeURIComponent(url.pathname),
    QUERY_STRING: url.search.slice(1),
    CONTENT_TYPE: req.headers['content-type'] ?? '',
    REMOTE_ADDR: req.socket.remoteAddress ?? '',
    REMOTE_USER: user ?? '',
    SERVER_PROTOCOL: `HTTP/${req.httpVersion}`,
    ...(req.headers['content-length'] !== undefined ? { CONTENT_LENGTH: req.headers['content-length'] } : {}),
    ...(req.headers['content-encoding'] !== undefined ? { HTTP_CONTENT_ENCODING: req.headers['content-encoding'] } : {}),
    ...(req.headers['git-protocol'] !== undefined ? { GIT_PROTOCOL: String(req.headers['git-protocol']) } : {}),
  };
  const backend = spawn('git', ['http-backend'], { env, stdio: ['pipe', 'pipe', 'inherit'] });
  req.pipe(backend.stdin);
  backend.stdin.on('error', () => undefined);
  // A CGI response: header lines, an empty line, the body.
  let head = Buffer.alloc(0);
  let headersSent = false;
  backend.stdout.on('data', (chunk) => {
    if (headersSent) return void res.write(chunk);
    head = Buffer.concat([head, chunk]);
    const end = head.indexOf('\r\n\r\n');
    if (end < 0) return;
    let status = 200;
    for (const line of head.subarray(0, end).toString('latin1').split('\r\n')) {
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).trim();
      const value = line.slice(colon + 1).trim();
      if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10);
      else res.setHeader(name, value);
    }
    res.writeHead(status);
    headersSent = true;
    res.write(head.subarray(end + 4));
  });
  backend.on('close', (code) => {
    if (!headersSent) return fail(res, 500, `git http-backend exited with ${code}`);
    res.end();
  });
});

server.listen(8080, '0.0.0.0', () => console.log('git server listening on 8080'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
