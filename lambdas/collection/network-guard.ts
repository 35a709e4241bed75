import { lookup as dnsLookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a host name to every address it has (tests pass a stub; production uses the system resolver). */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

export const systemResolver: Resolver = async (hostname) =>
  (await dnsLookup(hostname, { all: true, verbatim: true })).map(({ address, family }) => ({
    address,
    family: family === 6 ? 6 : 4,
  }));

export interface NetworkPolicy {
  /**
   * Lets requests reach 127.0.0.0/8 and ::1, and nothing else that is private. For tests that crawl
   * fixture sites on the loopback interface only; never set in production.
   */
  allowLoopback?: boolean;
  resolver?: Resolver;
}

/** A link refused because it leads to an address a crawler must never reach (SSRF protection). */
export class ForbiddenAddressError extends Error {
  constructor(
    readonly host: string,
    readonly address: string,
    readonly reason: string,
  ) {
    super(`refused ${host}: it resolves to ${address} (${reason})`);
    this.name = 'ForbiddenAddressError';
  }
}

const RANGES: [string, number, 'ipv4' | 'ipv6', string][] = [
  ['0.0.0.0', 8, 'ipv4', '"this network"'],
  ['10.0.0.0', 8, 'ipv4', 'private network'],
  ['100.64.0.0', 10, 'ipv4', 'carrier-grade NAT'],
  ['127.0.0.0', 8, 'ipv4', 'loopback'],
  ['169.254.0.0', 16, 'ipv4', 'link-local, where cloud metadata services live'],
  ['172.16.0.0', 12, 'ipv4', 'private network'],
  ['192.0.0.0', 24, 'ipv4', 'IETF protocol assignments'],
  ['192.0.2.0', 24, 'ipv4', 'documentation'],
  ['192.168.0.0', 16, 'ipv4', 'private network'],
  ['198.18.0.0', 15, 'ipv4', 'benchmarking'],
  ['198.51.100.0', 24, 'ipv4', 'documentation'],
  ['203.0.113.0', 24, 'ipv4', 'documentation'],
  ['224.0.0.0', 4, 'ipv4', 'multicast'],
  ['240.0.0.0', 4, 'ipv4', 'reserved'],
  ['::', 128, 'ipv6', 'unspecified'],
  ['::1', 128, 'ipv6', 'loopback'],
  ['100::', 64, 'ipv6', 'discard'],
  ['2001:db8::', 32, 'ipv6', 'documentation'],
  ['fc00::', 7, 'ipv6', 'unique local (private), where AWS IPv6 metadata lives'],
  ['fe80::', 10, 'ipv6', 'link-local'],
  ['ff00::', 8, 'ipv6', 'multicast'],
];

const METADATA = new Set(['169.254.169.254', '169.254.170.2', 'fd00:ec2::254', '100.100.100.200']);

const forbidden = RANGES.map(([network, prefix, type, reason]) => {
  const list = new BlockList();
  list.addSubnet(network, prefix, type);
  return { list, type, reason };
});

const loopback = new BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addAddress('::1', 'ipv6');

/** IPv6 forms that carry an IPv4 address (mapped, NAT64, 6to4): the IPv4 address decides. */
function embeddedIpv4(address: string): string | undefined {
  const lower = address.toLowerCase();
  const dotted = /^(?:::ffff:|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/u.exec(lower);
  if (dotted) return dotted[1];
  const hex = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/u.exec(lower);
  const sixToFour = /^2002:([0-9a-f]{1,4}):([0-9a-f]{1,4}):/u.exec(lower);
  const parts = hex ?? sixToFour;
  if (!parts) return undefined;
  const high = parseInt(parts[1] ?? '0', 16);
  const low = parseInt(parts[2] ?? '0', 16);
  return [high >> 8, high & 255, low >> 8, low & 255].join('.');
}

/** Why a crawler must not connect to this IP address, or undefined when it may. */
export function forbiddenReason(address: string, policy: NetworkPolicy = {}): string | undefined {
  const family = isIP(address);
  if (family === 0) return 'not an IP address';
  if (family === 6) {
    const inner = embeddedIpv4(address);
    if (inner) return forbiddenReason(inner, policy);
  }
  const type = family === 4 ? 'ipv4' : 'ipv6';
  if (policy.allowLoopback && loopback.check(address, type)) return undefined;
  if (METADATA.has(address.toLowerCase())) return 'cloud metadata service';
  return forbidden.find((range) => range.type === type && range.list.check(address, type))?.reason;
}

/** The bare host of a URL: brackets removed from IPv6 literals. */
export function hostnameOf(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/u, '$1');
}

/**
 * Resolves the host and checks every address it resolves to; returns the address to connect to.
 * IP literals in any spelling (decimal, octal, hex) arrive here already canonical, because the
 * WHATWG URL parser rewrites them (http://2130706433/ has hostname 127.0.0.1).
 */
export async function vetHost(host: string, policy: NetworkPolicy = {}): Promise<ResolvedAddress> {
  const literal = isIP(host);
  const addresses: ResolvedAddress[] = literal
    ? [{ address: host, family: literal === 6 ? 6 : 4 }]
    : await (policy.resolver ?? systemResolver)(host);
  if (addresses.length === 0) throw new Error(`cannot resolve ${host}`);
  for (const { address } of addresses) {
    const reason = forbiddenReason(address, policy);
    if (reason) throw new ForbiddenAddressError(host, address, reason);
  }
  return addresses[0] as ResolvedAddress;
}
