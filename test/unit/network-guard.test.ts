import { describe, expect, it } from 'vitest';
import {
  ForbiddenAddressError,
  forbiddenReason,
  hostnameOf,
  vetEndpoint,
  vetHost,
  type Resolver,
} from '../../lambdas/collection/network-guard.js';

/** A resolver that answers from a table and never touches the network. */
const stubResolver =
  (table: Record<string, string[]>): Resolver =>
  (host) =>
    Promise.resolve(
      (table[host] ?? []).map((address) => ({
        address,
        family: address.includes(':') ? (6 as const) : (4 as const),
      })),
    );

describe('the network guard (SSRF)', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['10.1.2.3', 'private network'],
    ['172.16.0.1', 'private network'],
    ['172.31.255.254', 'private network'],
    ['192.168.1.1', 'private network'],
    ['100.64.0.1', 'carrier-grade NAT'],
    ['169.254.1.1', 'link-local'],
    ['169.254.169.254', 'cloud metadata service'],
    ['169.254.170.2', 'cloud metadata service'],
    ['0.0.0.0', 'this network'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fe80::1', 'link-local'],
    ['fd00:ec2::254', 'cloud metadata service'],
    ['fc00::5', 'unique local'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:a9fe:a9fe', 'cloud metadata service'],
    ['64:ff9b::10.0.0.1', 'private network'],
    ['2002:a9fe:a9fe::1', 'cloud metadata service'],
    // IPv4-compatible (::/96): what http://[::127.0.0.1]/ parses to.
    ['::7f00:1', 'loopback'],
    ['::127.0.0.1', 'loopback'],
    ['::a9fe:a9fe', 'cloud metadata service'],
    ['::0a00:0001', 'private network'],
    // Mapped addresses, spelled out in full, with leading zeros or upper case.
    ['0:0:0:0:0:ffff:7f00:1', 'loopback'],
    ['0000:0000:0000:0000:0000:FFFF:7F00:0001', 'loopback'],
    ['::FFFF:127.0.0.1', 'loopback'],
    ['::ffff:0:127.0.0.1', 'loopback'],
    ['0:0:0:0:0:ffff:10.0.0.1', 'private network'],
    ['::ffff:c0a8:101', 'private network'],
    // NAT64: the well-known prefix carries an IPv4 address; the local-use prefix is refused whole.
    ['64:ff9b::7f00:1', 'loopback'],
    ['64:ff9b:0:0:0:0:a9fe:a9fe', 'cloud metadata service'],
    ['64:ff9b:1::8.8.8.8', 'local-use NAT64'],
    ['64:ff9b:1:2:3::1', 'local-use NAT64'],
    // Other spellings of the IPv6 specials.
    ['0:0:0:0:0:0:0:1', 'loopback'],
    ['0000::0001', 'loopback'],
    ['0::0', 'unspecified'],
    ['FE80::abcd%eth0', 'link-local'],
    ['fd00:0ec2:0000::0254', 'cloud metadata service'],
    ['FD12:3456::1', 'unique local'],
    ['2002:7f00:1::', 'loopback'],
    ['2002:0a00:0001:0:0:0:0:1', 'private network'],
    ['2001:0:4136:e378::1', 'Teredo'],
    ['2001:db8::1', 'documentation'],
    ['ff02::1', 'multicast'],
  ])('refuses %s (%s)', (address, reason) => {
    expect(forbiddenReason(address)).toContain(reason);
  });

  it.each([
    '93.184.216.34',
    '8.8.8.8',
    '172.32.0.1',
    '2606:4700:4700::1111',
    '::ffff:8.8.8.8',
    '0:0:0:0:0:ffff:808:808',
    '64:ff9b::8.8.8.8',
    '2002:808:808::1',
    '2a00:1450:4001:80b::200e',
    '2606:4700:4700:0000:0000:0000:0000:1111',
  ])('allows public %s', (address) => {
    expect(forbiddenReason(address)).toBeUndefined();
  });

  it('reads decimal, octal and hex spellings of an address as the address they mean', () => {
    for (const spelling of [
      'http://2130706433/',
      'http://0x7f000001/',
      'http://017700000001/',
      'http://0x7f.1/',
      'http://127.1/',
    ]) {
      expect(hostnameOf(new URL(spelling))).toBe('127.0.0.1');
    }
    expect(hostnameOf(new URL('http://0xa9.0xfe.0xa9.0xfe/'))).toBe('169.254.169.254');
    expect(hostnameOf(new URL('http://[::ffff:169.254.169.254]/'))).toBe('::ffff:a9fe:a9fe');
    // The URL parser turns ::127.0.0.1 into ::7f00:1, which the guard reads as 127.0.0.1.
    expect(forbiddenReason(hostnameOf(new URL('http://[::127.0.0.1]/')))).toBe('loopback');
  });

  it('refuses a name that resolves to a forbidden address, even when another answer is public', async () => {
    const resolver = stubResolver({
      'metadata.example': ['169.254.169.254'],
      'mixed.example': ['93.184.216.34', '10.0.0.7'],
    });
    await expect(vetHost('metadata.example', { resolver })).rejects.toBeInstanceOf(ForbiddenAddressError);
    await expect(vetHost('mixed.example', { resolver })).rejects.toThrow(
      'refused mixed.example: it resolves to 10.0.0.7 (private network)',
    );
    await expect(
      vetHost('public.example', { resolver: stubResolver({ 'public.example': ['93.184.216.34'] }) }),
    ).resolves.toEqual({
      address: '93.184.216.34',
      family: 4,
    });
  });

  it('lets the test-only loopback opt-in reach 127.0.0.0/8 and ::1, and nothing else that is private', () => {
    expect(forbiddenReason('127.0.0.1', { allowLoopback: true })).toBeUndefined();
    expect(forbiddenReason('::1', { allowLoopback: true })).toBeUndefined();
    expect(forbiddenReason('10.0.0.1', { allowLoopback: true })).toBe('private network');
    expect(forbiddenReason('169.254.169.254', { allowLoopback: true })).toBe('cloud metadata service');
  });

  it('narrows the loopback opt-in to named ports, in every spelling of loopback', async () => {
    const policy = { allowLoopback: true, loopbackPorts: [8080] };
    await expect(vetEndpoint('127.0.0.1', 8080, policy)).resolves.toEqual({
      address: '127.0.0.1',
      family: 4,
    });
    for (const host of ['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1'])
      await expect(vetEndpoint(host, 6379, policy)).rejects.toThrow(
        /a loopback port outside the allowed ones/u,
      );
    await expect(vetEndpoint('127.0.0.1', 6379, { allowLoopback: true })).resolves.toBeDefined();
  });
});
