import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assetsRoot } from '../common/assets.js';
import {
  DENIAL_LINE_TAG,
  DenialTally,
  denialHost,
  denialLogLine,
  denialsSummaryLine,
  inSubnet,
  parseDenialLine,
  summaryWithDenials,
  type ProxyDenial,
} from './proxy-denials.js';

const squidDir = join(assetsRoot(), 'squid');

function denial(overrides: Partial<ProxyDenial> = {}): ProxyDenial {
  return { time: 1_764_681_600_123, client: '172.20.0.3', method: 'CONNECT', target: 'denied.example.org:443', ...overrides };
}

describe('parseDenialLine', () => {
  it('should read the lines of the tsk_denied format that Squid itself refused', () => {
    expect(parseDenialLine('tsk-denied 1764681600.123 172.20.0.3 TCP_DENIED/403 CONNECT denied.example.org:443')).toEqual(denial());
    expect(parseDenialLine('tsk-denied 1764681600.007 172.20.0.3 TCP_DENIED/403 GET http://blocked.example/a?b=c')).toEqual(
      denial({ time: 1_764_681_600_007, method: 'GET', target: 'http://blocked.example/a?b=c' }),
    );
  });

  it('should read an IPv4 client in its IPv6-mapped form', () => {
    expect(parseDenialLine('tsk-denied 1764681600.123 ::ffff:172.20.0.3 TCP_DENIED/403 CONNECT denied.example.org:443')?.client).toBe('172.20.0.3');
  });

  it('should ignore a 403 an allowed server sent, other output, and lines posing as denials', () => {
    expect(parseDenialLine('tsk-denied 1764681600.123 172.20.0.3 TCP_MISS/403 GET http://github.com/x')).toBeUndefined();
    expect(parseDenialLine('tsk-proxy: starting squid on port 3128')).toBeUndefined();
    expect(parseDenialLine('  tsk-denied 1764681600.123 172.20.0.3 TCP_DENIED/403 GET http://x/')).toBeUndefined();
    expect(parseDenialLine('tsk-denied 1764681600 172.20.0.3 TCP_DENIED/403 GET http://x/')).toBeUndefined();
    expect(parseDenialLine('tsk-denied 1764681600.123 172.20.0.3 TCP_DENIED/403 GET')).toBeUndefined();
    expect(parseDenialLine('')).toBeUndefined();
  });

  it('should match the log format the proxy image writes', async () => {
    const conf = await readFile(join(squidDir, 'tsk-denials.conf'), 'utf8');
    expect(conf).toMatch(new RegExp(`^logformat tsk_denied ${DENIAL_LINE_TAG} %ts\\.%03tu %>a %Ss/%03>Hs %rm %ru$`, 'm'));
    expect(conf).toMatch(/^access_log stdio:\/run\/squid\/tsk-denials logformat=tsk_denied on-error=drop tsk_denied_status$/m);
    expect(conf).toMatch(/^deny_info ERR_TSK_DENIED all$/m);
  });
});

describe('the 403 page', () => {
  it('should name the host and the setting that allows it, with only the Squid codes it means', async () => {
    const page = await readFile(join(squidDir, 'ERR_TSK_DENIED'), 'utf8');
    expect(page).toContain("tsk's proxy denied this request to %H: the host is not in the sandbox's allowlist.");
    expect(page).toContain('acl allowed_domains dstdomain -n %H');
    expect(page).toContain('squid_conf / squid_conf_path in tsk.toml');
    expect(page).toContain('docs/network-isolation.md');
    // Squid reads every % followed by a character as a code: the page must hold no other.
    expect([...new Set(page.match(/%./g))].sort()).toEqual(['%H', '%M', '%U', '%c']);
  });
});

describe('denialHost', () => {
  it('should name the host of a CONNECT target or a URL, in lower case', () => {
    expect(denialHost(denial({ target: 'Denied.Example.org:443' }))).toBe('denied.example.org');
    expect(denialHost(denial({ target: '[2001:db8::1]:443' }))).toBe('2001:db8::1');
    expect(denialHost(denial({ method: 'GET', target: 'http://user:pw@Blocked.example:8080/x' }))).toBe('blocked.example');
    expect(denialHost(denial({ method: 'GET', target: 'http://[2001:db8::1]/x' }))).toBe('2001:db8::1');
    expect(denialHost(denial({ method: 'GET', target: 'http://bad host/x' }))).toBe('bad host');
    expect(denialHost(denial({ method: 'GET', target: 'error:invalid-request' }))).toBe('error:invalid-request');
  });
});

describe('denialLogLine', () => {
  it('should say the method and target, the URL cut to a sane length', () => {
    expect(denialLogLine(denial())).toBe('proxy denied CONNECT denied.example.org:443');
    expect(denialLogLine(denial({ method: 'GET', target: 'http://example.org/x' }))).toBe('proxy denied GET http://example.org/x');
    const long = denialLogLine(denial({ method: 'GET', target: `http://example.org/${'a'.repeat(5000)}` }));
    expect(long.length).toBeLessThan(250);
    expect(long.endsWith('…')).toBe(true);
  });
});

describe('inSubnet', () => {
  it('should tell addresses of a subnet from the rest', () => {
    expect(inSubnet('172.20.0.3', '172.20.0.0/16')).toBe(true);
    expect(inSubnet('172.21.0.3', '172.20.0.0/16')).toBe(false);
    expect(inSubnet('10.0.5.200', '10.0.5.192/26')).toBe(true);
    expect(inSubnet('10.0.5.191', '10.0.5.192/26')).toBe(false);
    expect(inSubnet('10.1.2.3', '0.0.0.0/0')).toBe(true);
    expect(inSubnet('10.1.2.3', '10.1.2.3/32')).toBe(true);
  });

  it('should match nothing it cannot read', () => {
    for (const [address, subnet] of [
      ['172.20.0.3', '172.20.0.0'],
      ['172.20.0.3', '172.20.0.0/33'],
      ['172.20.0.3', 'fd00::/64'],
      ['172.20.0.256', '172.20.0.0/16'],
      ['fd00::3', '172.20.0.0/16'],
      ['172.20.0', '172.20.0.0/16'],
    ]) {
      expect(inSubnet(address!, subnet!)).toBe(false);
    }
  });
});

describe('DenialTally', () => {
  it('should count a request the stream and a later reading both saw once, and one only the reading saw', () => {
    const tally = new DenialTally();
    const first = denial();
    const second = denial({ time: first.time + 5, method: 'GET', target: 'http://blocked.example/' });
    expect(tally.addStreamed(first)).toBe(true);
    expect(tally.addReading([first, second])).toEqual([second]);
    expect(tally.addReading([first, second])).toEqual([]);
    expect(tally.addStreamed(second)).toBe(false);
    expect(tally.denials).toEqual({ count: 2, hosts: ['denied.example.org', 'blocked.example'] });
  });

  it('should count two identical requests in one millisecond twice when one reading saw both', () => {
    const tally = new DenialTally();
    expect(tally.addStreamed(denial())).toBe(true);
    expect(tally.addStreamed(denial())).toBe(true);
    expect(tally.addReading([denial()])).toEqual([]);
    expect(tally.addReading([denial(), denial(), denial()])).toHaveLength(1);
    expect(tally.denials).toEqual({ count: 3, hosts: ['denied.example.org'] });
  });
});

describe('the summary', () => {
  it('should list the denied hosts, a bounded number of them', () => {
    expect(denialsSummaryLine({ count: 3, hosts: ['a.example', 'b.example'] })).toBe('Proxy denied 3 request(s) of this task: a.example, b.example');
    const many = Array.from({ length: 25 }, (_, index) => `h${index}.example`);
    expect(denialsSummaryLine({ count: 30, hosts: many })).toBe(`Proxy denied 30 request(s) of this task: ${many.slice(0, 10).join(', ')} and 15 more host(s)`);
  });

  it("should append the count to the agent's summary only when something was denied", () => {
    expect(summaryWithDenials('Done', { count: 0, hosts: [] })).toBe('Done');
    expect(summaryWithDenials(undefined, { count: 0, hosts: [] })).toBeUndefined();
    expect(summaryWithDenials('Done', { count: 2, hosts: ['a'] })).toBe('Done (proxy denied 2 requests)');
    expect(summaryWithDenials('Done', { count: 1, hosts: ['a'] })).toBe('Done (proxy denied 1 request)');
    expect(summaryWithDenials(undefined, { count: 2, hosts: ['a'] })).toBe('Proxy denied 2 requests');
  });
});
