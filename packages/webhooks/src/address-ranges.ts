import { type Cidr, embeddedIpv4, formatIpv4, type IpAddress, inCidr, parseCidr } from './ip-address.js';

/**
 * Which addresses a webhook or an input image URL may not reach (DESIGN §7): anything
 * that is not the public internet, because a tenant-supplied URL is otherwise a way to
 * make our workers talk to Redis, the cloud metadata service or the office network.
 * One ordered table per family; the first matching row decides. IPv6 forms that carry
 * an IPv4 address (mapped, translated, compatible, NAT64, 6to4) are judged by that
 * IPv4 address, since the kernel or a gateway turns them into it.
 */

interface RefusedRange {
  block: string;
  /** Completes "<address> is …". */
  what: string;
}

interface EmbeddingRange {
  block: string;
  /** Completes "<address> is … of <ipv4>". */
  what: string;
  /** Byte offset of the IPv4 address inside the IPv6 one. */
  ipv4At: number;
}

const IPV4_REFUSED: readonly RefusedRange[] = [
  { block: '0.0.0.0/8', what: 'an unspecified ("this network") address' },
  { block: '10.0.0.0/8', what: 'a private address' },
  { block: '100.64.0.0/10', what: 'a carrier-grade NAT (shared) address' },
  { block: '127.0.0.0/8', what: 'a loopback address' },
  { block: '169.254.169.254/32', what: 'a cloud metadata address' },
  { block: '169.254.0.0/16', what: 'a link-local address' },
  { block: '168.63.129.16/32', what: 'a cloud metadata address (Azure WireServer)' },
  { block: '172.16.0.0/12', what: 'a private address' },
  { block: '192.0.0.0/24', what: 'a reserved (IETF protocol assignment) address' },
  { block: '192.0.2.0/24', what: 'a documentation address' },
  { block: '192.88.99.0/24', what: 'a reserved (6to4 relay anycast) address' },
  { block: '192.168.0.0/16', what: 'a private address' },
  { block: '198.18.0.0/15', what: 'a benchmarking address' },
  { block: '198.51.100.0/24', what: 'a documentation address' },
  { block: '203.0.113.0/24', what: 'a documentation address' },
  { block: '224.0.0.0/4', what: 'a multicast address' },
  { block: '255.255.255.255/32', what: 'the broadcast address' },
  { block: '240.0.0.0/4', what: 'a reserved address' },
];

const IPV6_REFUSED_FIRST: readonly RefusedRange[] = [
  { block: '::/128', what: 'the unspecified address' },
  { block: '::1/128', what: 'a loopback address' },
];

const IPV6_EMBEDDING: readonly EmbeddingRange[] = [
  { block: '::ffff:0:0/96', what: 'an IPv4-mapped IPv6 address', ipv4At: 12 },
  { block: '::ffff:0:0:0/96', what: 'an IPv4-translated IPv6 address', ipv4At: 12 },
  { block: '::/96', what: 'an IPv4-compatible IPv6 address', ipv4At: 12 },
  { block: '64:ff9b::/96', what: 'a NAT64 address', ipv4At: 12 },
  { block: '2002::/16', what: 'a 6to4 address', ipv4At: 2 },
];

const IPV6_REFUSED: readonly RefusedRange[] = [
  { block: '64:ff9b:1::/48', what: 'a local-use NAT64 address' },
  { block: '100::/64', what: 'a discard-only address' },
  { block: '2001::/32', what: 'a Teredo tunnel address' },
  { block: '2001:2::/48', what: 'a benchmarking address' },
  { block: '2001:db8::/32', what: 'a documentation address' },
  { block: '3fff::/20', what: 'a documentation address' },
  { block: 'fd00:ec2::254/128', what: 'a cloud metadata address' },
  { block: 'fc00::/7', what: 'a private (unique local) address' },
  { block: 'fe80::/10', what: 'a link-local address' },
  { block: 'fec0::/10', what: 'a site-local address' },
  { block: 'ff00::/8', what: 'a multicast address' },
];

/** Everything public in IPv6 today lies here; anything outside is reserved or special. */
const IPV6_GLOBAL_UNICAST = parseCidr('2000::/3');

type Compiled<T> = (T & { cidr: Cidr })[];
const compile = <T extends { block: string }>(rows: readonly T[]): Compiled<T> =>
  rows.map((row) => ({ ...row, cidr: parseCidr(row.block) }));

const ipv4Refused = compile(IPV4_REFUSED);
const ipv6RefusedFirst = compile(IPV6_REFUSED_FIRST);
const ipv6Embedding = compile(IPV6_EMBEDDING);
const ipv6Refused = compile(IPV6_REFUSED);

/**
 * Why `address` may not be reached, as the end of a sentence ("a loopback address",
 * "an IPv4-mapped IPv6 address of 127.0.0.1, a loopback address"), or `undefined` when
 * it is a public address.
 */
export function refusedRange(address: IpAddress): string | undefined {
  if (address.family === 4) return ipv4Refused.find((row) => inCidr(address, row.cidr))?.what;
  const first = ipv6RefusedFirst.find((row) => inCidr(address, row.cidr));
  if (first) return first.what;
  const embedding = ipv6Embedding.find((row) => inCidr(address, row.cidr));
  if (embedding) {
    const ipv4 = embeddedIpv4(address, embedding.ipv4At);
    const inner = refusedRange(ipv4);
    return inner && `${embedding.what} of ${formatIpv4(ipv4)}, ${inner}`;
  }
  const refused = ipv6Refused.find((row) => inCidr(address, row.cidr));
  if (refused) return refused.what;
  return inCidr(address, IPV6_GLOBAL_UNICAST) ? undefined : 'not a global unicast address';
}
