import { describe, expect, it } from 'vitest';
import { FLUSH_RULE } from './denial-flush.js';
import { buildProxyContainerSpec } from './proxy-container-spec.js';

describe('buildProxyContainerSpec', () => {
  const spec = buildProxyContainerSpec({
    fingerprint: 'abcdef012345',
    domain: 'd1',
    image: 'tsk/proxy:123',
    config: { hostPorts: [80, 5432], squidConf: 'http_port 3128\n' },
    egressNetwork: 'tsk-egress-abcdef012345',
    hostAddress: '172.30.0.1',
  });
  const host = spec.HostConfig!;

  it('should name and label the proxy after its fingerprint and user, and start it on its egress network', () => {
    expect(spec.name).toBe('tsk-proxy-abcdef012345');
    expect(spec.Labels).toEqual({ 'tsk.managed': 'true', 'tsk.role': 'proxy', 'tsk.proxy': 'abcdef012345', 'tsk.locks': 'd1' });
    expect(host.NetworkMode).toBe('tsk-egress-abcdef012345');
  });

  it('should run hardened: read-only root, only NET_ADMIN/SETUID/SETGID, no-new-privileges, limits', () => {
    expect(host.ReadonlyRootfs).toBe(true);
    expect(host.CapDrop).toEqual(['ALL']);
    expect(host.CapAdd).toEqual(['NET_ADMIN', 'SETUID', 'SETGID']);
    expect(host.SecurityOpt).toEqual(['no-new-privileges:true']);
    expect(host.Privileged).toBeUndefined();
    expect(host.Memory).toBeGreaterThan(0);
    expect(host.PidsLimit).toBeGreaterThan(0);
  });

  it('should keep a log Docker can read back (the denials come from it), rotated', () => {
    expect(host.LogConfig).toEqual({ Type: 'json-file', Config: { 'max-size': '8m', 'max-file': '2' } });
  });

  it('should keep everything Squid writes on noexec tmpfs mounts', () => {
    expect(Object.keys(host.Tmpfs ?? {}).sort()).toEqual(['/run', '/tmp', '/var/log/squid', '/var/spool/squid']);
    for (const options of Object.values(host.Tmpfs ?? {})) expect(options).toMatch(/(^|,)noexec(,|$)/);
  });

  it('should pass the configuration in the environment and point host.docker.internal at the host', () => {
    const env = Object.fromEntries((spec.Env ?? []).map((entry) => entry.split(/=(.*)/s).slice(0, 2) as [string, string]));
    expect(env.TSK_PROXY_PORT).toBe('3128');
    expect(env.TSK_HOST_PORTS).toBe('80 5432');
    // tsk's flush marker rule first (its http_access must match before the configuration's), then the configuration.
    expect(Buffer.from(env.TSK_SQUID_CONF_B64 ?? '', 'base64').toString('utf8')).toBe(`${FLUSH_RULE}http_port 3128\n`);
    expect(host.ExtraHosts).toEqual(['host.docker.internal:172.30.0.1']);
    expect(host.Sysctls).toEqual({ 'net.ipv4.ip_unprivileged_port_start': '0' });
  });
});
