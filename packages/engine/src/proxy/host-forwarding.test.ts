import { describe, expect, it } from 'vitest';
import { bridgeAddressCandidates, ipv4InSubnet, planHostForwarding, type HostForwardingFacts } from './host-forwarding.js';

describe('planHostForwarding', () => {
  const facts: HostForwardingFacts = {
    hostPorts: [5432, 8080],
    inVm: false,
    egress: { gateway: '172.30.0.1', subnet: '172.30.0.0/16' },
    bridge: { gateway: '172.17.0.1', subnet: '172.17.0.0/16' },
    localAddresses: new Set(['172.17.0.1', '172.30.0.1']),
  };

  it('should listen on the egress gateway and forward to loopback, then to the docker0 address', () => {
    expect(planHostForwarding(facts)).toEqual({
      forward: { gateway: '172.30.0.1', subnet: '172.30.0.0/16', ports: [5432, 8080], targets: ['127.0.0.1', '172.17.0.1'] },
    });
  });

  it('should find the docker0 address in the default bridge’s subnet when the engine names no gateway', () => {
    const plan = planHostForwarding({ ...facts, bridge: { gateway: undefined, subnet: '172.17.0.0/16' } });
    expect(plan.forward?.targets).toEqual(['127.0.0.1', '172.17.0.1']);
  });

  it('should forward nowhere but loopback when docker0 is not an address of this host', () => {
    for (const bridge of [
      { gateway: '10.1.0.1', subnet: '10.1.0.0/16' },
      { gateway: undefined, subnet: undefined },
      { gateway: undefined, subnet: '10.1.0.0/16' },
    ]) {
      expect(planHostForwarding({ ...facts, bridge }).forward?.targets, JSON.stringify(bridge)).toEqual(['127.0.0.1']);
    }
  });

  it('should forward nothing without host ports, or on Docker Desktop (whose host-gateway reaches loopback itself)', () => {
    expect(planHostForwarding({ ...facts, hostPorts: [] })).toEqual({ forward: undefined, reason: undefined });
    expect(planHostForwarding({ ...facts, inVm: true })).toEqual({ forward: undefined, reason: undefined });
  });

  it('should not forward, and say why, when this process is not on the Docker host', () => {
    const plan = planHostForwarding({ ...facts, localAddresses: new Set(['172.17.0.1']) });
    expect(plan.forward).toBeUndefined();
    expect(plan).toMatchObject({ reason: expect.stringContaining('not on the Docker host') });
  });

  it('should not forward for an egress network without a usable IPv4 gateway and subnet', () => {
    for (const egress of [
      { gateway: undefined, subnet: '172.30.0.0/16' },
      { gateway: '172.30.0.1', subnet: undefined },
      { gateway: 'fd00::1', subnet: '172.30.0.0/16' },
      { gateway: '172.30.0.1', subnet: 'garbage' },
      { gateway: '172.31.0.1', subnet: '172.30.0.0/16' },
    ]) {
      expect(planHostForwarding({ ...facts, egress }).forward, JSON.stringify(egress)).toBeUndefined();
    }
  });
});

describe('bridgeAddressCandidates', () => {
  it('should offer the default bridge’s gateway, then the first address of its subnet', () => {
    expect(bridgeAddressCandidates({ gateway: '172.17.0.1', subnet: '172.17.0.0/16' })).toEqual(['172.17.0.1']);
    expect(bridgeAddressCandidates({ gateway: '172.17.0.5', subnet: '172.17.0.0/16' })).toEqual(['172.17.0.5', '172.17.0.1']);
    expect(bridgeAddressCandidates({ gateway: undefined, subnet: '10.200.4.0/22' })).toEqual(['10.200.4.1']);
    expect(bridgeAddressCandidates({ gateway: undefined, subnet: undefined })).toEqual([]);
    expect(bridgeAddressCandidates({ gateway: 'fd00::1', subnet: 'fd00::/64' })).toEqual([]);
    expect(bridgeAddressCandidates({ gateway: undefined, subnet: '0.0.0.0/0' })).toEqual([]);
  });
});

describe('ipv4InSubnet', () => {
  it('should accept addresses in the subnet, IPv4-mapped ones included', () => {
    expect(ipv4InSubnet('172.30.0.2', '172.30.0.0/16')).toBe(true);
    expect(ipv4InSubnet('172.30.255.254', '172.30.0.0/16')).toBe(true);
    expect(ipv4InSubnet('::ffff:172.30.4.5', '172.30.0.0/16')).toBe(true);
    expect(ipv4InSubnet('10.0.0.1', '0.0.0.0/0')).toBe(true);
    expect(ipv4InSubnet('192.168.1.7', '192.168.1.7/32')).toBe(true);
  });

  it('should refuse addresses outside it, and anything it cannot parse', () => {
    expect(ipv4InSubnet('172.31.0.2', '172.30.0.0/16')).toBe(false);
    expect(ipv4InSubnet('172.17.0.2', '172.30.0.0/16')).toBe(false);
    expect(ipv4InSubnet('127.0.0.1', '172.30.0.0/16')).toBe(false);
    expect(ipv4InSubnet('192.168.1.8', '192.168.1.7/32')).toBe(false);
    expect(ipv4InSubnet('fd00::2', '172.30.0.0/16')).toBe(false);
    expect(ipv4InSubnet('', '172.30.0.0/16')).toBe(false);
    expect(ipv4InSubnet('172.30.0.2', '172.30.0.0/33')).toBe(false);
    expect(ipv4InSubnet('172.30.0.2', '172.30.0.0')).toBe(false);
  });
});
