import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors/index.js';
import { proxyFingerprint, resolveProxyConfig } from './squid-config.js';

const DEFAULT = 'http_port 3128\nhttp_access deny all\n';

describe('resolveProxyConfig', () => {
  it('should sort and deduplicate host ports and fall back to the default squid.conf', () => {
    expect(resolveProxyConfig({ hostPorts: [8080, 5432, 8080], squidConf: undefined }, DEFAULT)).toEqual({
      hostPorts: [5432, 8080],
      squidConf: DEFAULT,
    });
  });

  it('should use a task squid_conf in place of the default, but not a blank one', () => {
    expect(resolveProxyConfig({ hostPorts: [], squidConf: 'custom' }, DEFAULT).squidConf).toBe('custom');
    expect(resolveProxyConfig({ hostPorts: [], squidConf: '  \n' }, DEFAULT).squidConf).toBe(DEFAULT);
  });

  it.each([[0], [65536], [1.5], [3128]])('should reject host port %s', (port) => {
    expect(() => resolveProxyConfig({ hostPorts: [port], squidConf: undefined }, DEFAULT)).toThrow(ConfigError);
  });
});

describe('proxyFingerprint', () => {
  const base = { hostPorts: [5432], squidConf: DEFAULT };

  it('should be 12 hex characters and stable for equal configurations', () => {
    const fingerprint = proxyFingerprint(base, 'tsk/proxy:aaa', 'd1');
    expect(fingerprint).toMatch(/^[0-9a-f]{12}$/);
    expect(proxyFingerprint({ hostPorts: [5432], squidConf: DEFAULT }, 'tsk/proxy:aaa', 'd1')).toBe(fingerprint);
  });

  it('should change with the host ports, the squid.conf and the proxy image', () => {
    const fingerprint = proxyFingerprint(base, 'tsk/proxy:aaa', 'd1');
    expect(proxyFingerprint({ ...base, hostPorts: [5433] }, 'tsk/proxy:aaa', 'd1')).not.toBe(fingerprint);
    expect(proxyFingerprint({ ...base, squidConf: `${DEFAULT}# x\n` }, 'tsk/proxy:aaa', 'd1')).not.toBe(fingerprint);
    expect(proxyFingerprint(base, 'tsk/proxy:bbb', 'd1')).not.toBe(fingerprint);
  });

  it('should differ between lock domains: proxies are shared only by processes that share their locks', () => {
    expect(proxyFingerprint(base, 'tsk/proxy:aaa', 'd2')).not.toBe(proxyFingerprint(base, 'tsk/proxy:aaa', 'd1'));
  });
});
