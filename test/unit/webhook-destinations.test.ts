import { describe, expect, it } from 'vitest';
import { addressRefusal, hostRefusal } from '../../src/webhooks/destinations.ts';
import { publicOnlyLookup } from '../../src/webhooks/destination-guard.ts';

// The destination rule for webhooks: public unicast addresses only. Hosts are given as WHATWG
// URL leaves them, so each case goes through new URL() first, as checkEndpointUrl does.

const hostOf = (url: string) => new URL(url).hostname;

describe('webhook destinations', () => {
  it.each([
    // loopback, in every spelling WHATWG URL normalizes to 127.0.0.1
    ['http://127.0.0.1:9/', 'a loopback address'],
    ['http://127.255.0.9/', 'a loopback address'],
    ['http://2130706433:9/', 'a loopback address'],
    ['http://0x7f000001:9/', 'a loopback address'],
    ['http://0x7f.0.0.1/', 'a loopback address'],
    ['http://0177.0.0.1/', 'a loopback address'],
    ['http://127.1/', 'a loopback address'],
    ['http://[::1]:9/', 'a loopback address'],
    // unspecified
    ['http://0.0.0.0:9/', 'an unspecified address'],
    ['http://0/', 'an unspecified address'],
    ['http://[::]/', 'an unspecified address'],
    // private: RFC 1918 and IPv6 unique local fc00::/7
    ['http://10.1.2.3/', 'a private address'],
    ['http://172.16.0.1/', 'a private address'],
    ['http://172.31.255.255/', 'a private address'],
    ['http://192.168.1.1/', 'a private address'],
    ['http://[fc00::1]/', 'a private address'],
    ['http://[fd12:3456::1]/', 'a private address'],
    // link-local, including the cloud metadata service
    ['http://169.254.169.254/latest/meta-data/', 'a link-local address'],
    ['http://[fe80::1]/', 'a link-local address'],
    // multicast, broadcast, carrier-grade NAT, reserved
    ['http://224.0.0.1/', 'a multicast address'],
    ['http://239.255.255.250/', 'a multicast address'],
    ['http://[ff02::1]/', 'a multicast address'],
    ['http://255.255.255.255/', 'a broadcast address'],
    ['http://100.64.0.1/', 'a carrier-grade NAT address'],
    ['http://100.127.255.254/', 'a carrier-grade NAT address'],
    ['http://240.0.0.1/', 'a reserved address (reserved)'],
    ['http://192.0.2.10/', 'a reserved address (reserved)'],
    ['http://[2001:db8::1]/', 'a reserved address (reserved)'],
    // IPv4-mapped and IPv4-compatible IPv6, and the IPv6 ranges that embed an IPv4 address
    ['http://[::ffff:127.0.0.1]/', 'a loopback address'],
    ['http://[::ffff:10.0.0.1]/', 'a private address'],
    ['http://[::ffff:169.254.169.254]/', 'a link-local address'],
    ['http://[::ffff:0.0.0.0]/', 'an unspecified address'],
    ['http://[::127.0.0.1]/', 'a deprecated IPv4-compatible IPv6 address'],
    ['http://[::8.8.8.8]/', 'a deprecated IPv4-compatible IPv6 address'],
    ['http://[64:ff9b::127.0.0.1]/', 'a reserved address (rfc6052)'],
    ['http://[2002:7f00:1::]/', 'a reserved address (6to4)'],
    // names that only local networks resolve
    ['http://localhost:9/x', 'a name reserved for local networks'],
    ['http://LOCALHOST./', 'a name reserved for local networks'],
    ['http://hooks.localhost/', 'a name reserved for local networks'],
    ['http://printer.local/', 'a name reserved for local networks'],
    ['http://router.home.arpa/', 'a name reserved for local networks'],
    ['http://metadata.google.internal/', 'a name reserved for local networks'],
    ['http://db:5432/', 'a name without a domain'],
  ])('refuses %s: %s', (url, reason) => {
    expect(hostRefusal(hostOf(url))).toBe(reason);
  });

  it.each([
    'https://example.com/hooks',
    'https://hooks.example.com./',
    'http://8.8.8.8/',
    'http://1.1.1.1:8080/',
    'http://100.63.255.255/',
    'http://100.128.0.1/',
    'http://172.32.0.1/',
    'http://[2606:4700:4700::1111]/',
    'http://[::ffff:8.8.8.8]/',
  ])('allows the public %s', (url) => {
    expect(hostRefusal(hostOf(url))).toBeNull();
  });

  it('judges resolved addresses the same way, bracketed or not', () => {
    expect(addressRefusal('127.0.0.1')).toBe('a loopback address');
    expect(addressRefusal('::ffff:7f00:1')).toBe('a loopback address');
    expect(addressRefusal('[::1]')).toBe('a loopback address');
    expect(addressRefusal('93.184.215.14')).toBeNull();
    expect(addressRefusal('localhost')).toBe('not an IP address');
  });

  it('resolves a name and refuses it when every address it has is refused', async () => {
    const lookup = (all: boolean) =>
      new Promise<{ error: NodeJS.ErrnoException | null; address: unknown }>((resolve) =>
        publicOnlyLookup('localhost', { all }, (error, address) => resolve({ error, address })),
      );
    for (const all of [true, false]) {
      const { error } = await lookup(all);
      expect(error).toMatchObject({ code: 'ERR_DESTINATION_NOT_ALLOWED', name: 'DestinationNotAllowedError' });
      expect(error?.message).toMatch(
        /^webhook destination localhost is not allowed: it resolves to a loopback address$/,
      );
    }
  });
});
