import { lookup as dnsLookup } from 'node:dns/promises';
import { BlockList, isIP, type LookupFunction } from 'node:net';

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
  /**
   * With allowLoopback: the only loopback ports that may be reached (a fixture site's), so a test can
   * show that a page still cannot reach any other local service.
   */
  loopbackPorts?: readonly number[];
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
  ['64:ff9b:1::', 48, 'ipv6', 'local-use NAT64, which can reach private networks'],
  ['100::', 64, 'ipv6', 'discard'],
  ['2001::', 32, 'ipv6', 'Teredo tunnelling, which hides the address it reaches'],
  ['2001:db8::', 32, 'ipv6', 'documentation'],
  ['fc00::', 7, 'ipv6', 'unique local (private), where AWS IPv6 metadata lives'],
  ['fe80::', 10, 'ipv6', 'link-local'],
  ['ff00::', 8, 'ipv6', 'multicast'],
];

const METADATA = new Set(['169.254.169.254', '169.254.170.2', 'fd00:ec2:0:0:0:0:0:254', '100.100.100.200']);

const forbidden = RANGES.map(([network, prefix, type, reason]) => {
  const list = new BlockList();
  list.addSubnet(network, prefix, type);
  return { list, type, reason };
});

const loopback = new BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addAddress('::1', 'ipv6');

/**
 * The eight 16-bit groups of an IPv6 address in any spelling: `::` expanded, leading zeros and case
 * ignored, a trailing dotted IPv4 read as the last two groups, a zone (`%eth0`) dropped.
 */
export function ipv6Groups(address: string): number[] | undefined {
  let text = address.toLowerCase().replace(/%.*$/u, '');
  const dotted = /(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/u.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const fill = halves.length === 2 ? 8 - head.length - tail.length : 0;
  const groups = [...head, ...Array<string>(Math.max(fill, 0)).fill('0'), ...tail].map((group) =>
    parseInt(group, 16),
  );
  return groups.length === 8 && groups.every((group) => group >= 0 && group <= 0xffff) ? groups : undefined;
}

const dottedQuad = (high: number, low: number) => [high >> 8, high & 255, low >> 8, low & 255].join('.');

/**
 * The IPv4 address an IPv6 address carries, whatever its spelling: IPv4-mapped (::ffff:0:0/96),
 * IPv4-translated (::ffff:0:0:0/96), IPv4-compatible (::/96), NAT64 (64:ff9b::/96) and 6to4
 * (2002::/16). The IPv4 address then decides.
 */
function embeddedIpv4(groups: readonly number[]): string | undefined {
  const [g0, g1, g2, g3, g4, g5, g6 = 0, g7 = 0] = groups;
  const zeros = (...values: (number | undefined)[]) => values.every((value) => value === 0);
  if (zeros(g0, g1, g2, g3, g4) && g5 === 0xffff) return dottedQuad(g6, g7);
  if (zeros(g0, g1, g2, g3) && g4 === 0xffff && g5 === 0) return dottedQuad(g6, g7);
  if (zeros(g0, g1, g2, g3, g4, g5) && !(g6 === 0 && g7 <= 1)) return dottedQuad(g6, g7);
  if (g0 === 0x64 && g1 === 0xff9b && zeros(g2, g3, g4, g5)) return dottedQuad(g6, g7);
  if (g0 === 0x2002) return dottedQuad(g1 ?? 0, g2 ?? 0);
  return undefined;
}

/**
 * The address the checks look at, in one spelling: the IPv4 address an IPv6 one carries, else the
 * IPv6 address with its groups written out (node's BlockList wants a well-formed address).
 */
function checkedForm(address: string): { type: 'ipv4' | 'ipv6'; text: string } | undefined {
  const family = isIP(address);
  if (family === 4) return { type: 'ipv4', text: address };
  if (family !== 6) return undefined;
  const groups = ipv6Groups(address);
  if (!groups) return undefined;
  const inner = embeddedIpv4(groups);
  return inner
    ? { type: 'ipv4', text: inner }
    : { type: 'ipv6', text: groups.map((group) => group.toString(16)).join(':') };
}

/** Why a crawler must not connect to this IP address, or undefined when it may. */
export function forbiddenReason(address: string, policy: NetworkPolicy = {}): string | undefined {
  const form = checkedForm(address);
  if (!form) return 'not an IP address';
  if (policy.allowLoopback && loopback.check(form.text, form.type)) return undefined;
  if (METADATA.has(form.text)) return 'cloud metadata service';
  return forbidden.find((range) => range.type === form.type && range.list.check(form.text, form.type))
    ?.reason;
}

/** The bare host of a URL: brackets removed from IPv6 literals. */
export function hostnameOf(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/u, '$1');
}

/** The port a URL connects to: the one it names, else its scheme's default. */
export function portOf(url: URL): number {
  if (url.port) return Number(url.port);
  return url.protocol === 'https:' || url.protocol === 'wss:' ? 443 : 80;
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

/**
 * vetHost for one connection: also refuses a loopback port outside `loopbackPorts` when the policy
 * names them. Returns the address to connect to.
 */
export async function vetEndpoint(
  host: string,
  port: number,
  policy: NetworkPolicy = {},
): Promise<ResolvedAddress> {
  const vetted = await vetHost(host, policy);
  const ports = policy.loopbackPorts;
  if (ports && isLoopbackAddress(vetted.address) && !ports.includes(port))
    throw new ForbiddenAddressError(
      host,
      `${vetted.address} port ${String(port)}`,
      'a loopback port outside the allowed ones',
    );
  return vetted;
}

function isLoopbackAddress(address: string): boolean {
  const form = checkedForm(address);
  return form !== undefined && loopback.check(form.text, form.type);
}

/** A socket lookup that answers with the vetted address only: no second DNS answer can slip in. */
export function pinnedLookup(vetted: ResolvedAddress): LookupFunction {
  return (_hostname, options, callback) => {
    if (options.all) callback(null, [{ address: vetted.address, family: vetted.family }]);
    else callback(null, vetted.address, vetted.family);
  };
}
