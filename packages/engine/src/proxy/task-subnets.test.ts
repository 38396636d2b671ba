import { describe, expect, it } from 'vitest';
import { EGRESS_SUBNET_POOL, ipv4Range, isPoolOverlap, pickSubnet, pickTaskSubnet, routedSubnets } from './task-subnets.js';

describe('pickTaskSubnet', () => {
  it('should give a /24 of 198.19.0.0/16 with its first address as the gateway', () => {
    expect(pickTaskSubnet([], () => 0)).toEqual({ subnet: '198.19.0.0/24', gateway: '198.19.0.1' });
    expect(pickTaskSubnet([], () => 0.999999)).toEqual({ subnet: '198.19.255.0/24', gateway: '198.19.255.1' });
  });

  it('should skip every subnet another network overlaps, whatever its size, and ignore IPv6 and garbage', () => {
    const taken = ['198.19.0.0/24', '198.19.1.128/25', '198.19.2.7/32', 'fd00::/64', 'not a cidr', '172.17.0.0/16'];
    expect(pickTaskSubnet(taken, () => 0)?.subnet).toBe('198.19.3.0/24');
    // A network over the whole lower half leaves only the upper one.
    for (const value of [0, 0.3, 0.7, 0.99]) expect(pickTaskSubnet(['198.19.0.0/17'], () => value)?.subnet).toMatch(/^198\.19\.(12[89]|1[3-9]\d|2\d\d)\.0\/24$/);
  });

  it('should say when the pool is full', () => {
    expect(pickTaskSubnet(['198.19.0.0/16'])).toBeUndefined();
    expect(pickTaskSubnet(['198.0.0.0/8'])).toBeUndefined();
  });
});

describe('ipv4Range', () => {
  it('should read a CIDR as its first and last address, normalising host bits', () => {
    expect(ipv4Range('10.0.0.0/8')).toEqual({ first: 10 * 2 ** 24, last: 11 * 2 ** 24 - 1 });
    expect(ipv4Range('10.1.2.3/24')).toEqual(ipv4Range('10.1.2.0/24'));
    expect(ipv4Range('10.1.2.3')).toEqual({ first: 167838211, last: 167838211 });
    expect(ipv4Range('256.0.0.0/8')).toBeUndefined();
    expect(ipv4Range('10.0.0.0/33')).toBeUndefined();
    expect(ipv4Range('fd00::/8')).toBeUndefined();
  });
});

describe('isPoolOverlap', () => {
  it("should know Docker's refusal of an overlapping subnet", () => {
    expect(isPoolOverlap('(HTTP code 403) unexpected - Pool overlaps with other one on this address space')).toBe(true);
    expect(isPoolOverlap('network with name x already exists')).toBe(false);
  });
});

describe('pickSubnet (egress pool)', () => {
  it('should take /24s of 198.18.0.0/16, clear of what is taken', () => {
    expect(pickSubnet(EGRESS_SUBNET_POOL, [], () => 0)).toEqual({ subnet: '198.18.0.0/24', gateway: '198.18.0.1' });
    expect(pickSubnet(EGRESS_SUBNET_POOL, ['198.18.0.0/24', '198.19.0.0/16'], () => 0)?.subnet).toBe('198.18.1.0/24');
  });
});

describe('routedSubnets', () => {
  it("should read /proc/net/route's destinations and masks as CIDRs, without the default route", () => {
    const table = [
      'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT',
      'eth0\t00000000\t0100A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0',
      'eth0\t0000A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0',
      'docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0',
      'br-x\t000512C6\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0',
      '',
    ].join('\n');
    expect(routedSubnets(table)).toEqual(['192.168.0.0/24', '172.17.0.0/16', '198.18.5.0/24']);
    expect(pickSubnet(EGRESS_SUBNET_POOL, routedSubnets(table), () => 5.5 / 255)?.subnet).toBe('198.18.6.0/24');
    expect(routedSubnets('garbage')).toEqual([]);
  });
});
