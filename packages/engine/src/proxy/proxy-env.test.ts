import { describe, expect, it } from 'vitest';
import { proxyEnv } from './proxy-env.js';

describe('proxyEnv', () => {
  const env = Object.fromEntries(proxyEnv('tsk-proxy', 3128).map(({ name, value }) => [name, value]));

  it('should point both spellings of HTTP(S)_PROXY at the proxy', () => {
    for (const name of ['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy']) expect(env[name]).toBe('http://tsk-proxy:3128');
  });

  it('should exempt loopback and the proxy host itself, so forwarded host ports are reached directly', () => {
    expect(env.NO_PROXY).toBe('localhost,127.0.0.1,::1,tsk-proxy');
    expect(env.no_proxy).toBe(env.NO_PROXY);
    expect(env.TSK_PROXY_HOST).toBe('tsk-proxy');
  });

  it('should give Java the same proxy through JAVA_TOOL_OPTIONS', () => {
    expect(env.JAVA_TOOL_OPTIONS?.split(' ')).toEqual([
      '-Dhttp.proxyHost=tsk-proxy',
      '-Dhttp.proxyPort=3128',
      '-Dhttps.proxyHost=tsk-proxy',
      '-Dhttps.proxyPort=3128',
      '-Dhttp.nonProxyHosts=localhost|127.0.0.1|tsk-proxy',
    ]);
  });
});
