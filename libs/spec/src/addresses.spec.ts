import { canonicalAddress, cidrContains, isCidr, isIpAddress, parseCidr } from './addresses';

describe('addresses', () => {
  it('tells IPv4 and IPv6 addresses from other text', () => {
    expect(['10.0.0.1', '::1', 'fd00::10', '::ffff:10.0.0.1'].every(isIpAddress)).toBe(true);
    expect(['10.0.0', '10.0.0.256', 'host', '', '10.0.0.1/24'].some(isIpAddress)).toBe(false);
  });

  it('accepts CIDRs only with a prefix that fits the family', () => {
    expect(isCidr('10.0.0.0/24')).toBe(true);
    expect(isCidr('fd00::/64')).toBe(true);
    expect(isCidr('10.0.0.0/33')).toBe(false);
    expect(isCidr('10.0.0.0')).toBe(false);
  });

  it('finds whether an address is inside a subnet', () => {
    const v4 = parseCidr('172.16.2.0/24');
    const v6 = parseCidr('fd00:10::/64');
    if (!v4 || !v6) throw new Error('test CIDRs must parse');
    expect(cidrContains(v4, '172.16.2.254')).toBe(true);
    expect(cidrContains(v4, '172.16.3.1')).toBe(false);
    expect(cidrContains(v6, 'fd00:10::abcd')).toBe(true);
    expect(cidrContains(v6, 'fd00:11::1')).toBe(false);
    expect(cidrContains(v4, 'fd00:10::1')).toBe(false);
  });

  it('treats two spellings of one IPv6 address as the same address', () => {
    expect(canonicalAddress('fd00:0:0::1')).toBe(canonicalAddress('fd00::0001'));
    expect(canonicalAddress('10.0.0.1')).not.toBe(canonicalAddress('10.0.0.2'));
  });
});
