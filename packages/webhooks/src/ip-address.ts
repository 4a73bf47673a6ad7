import { isIP } from 'node:net';

/**
 * IP addresses as bytes, and CIDR blocks over them: just enough to classify an address
 * against a table of ranges. Inputs are the strings Node hands us (the WHATWG URL
 * parser's normalised hostnames, `dns.lookup` answers), validated by `net.isIP` first,
 * so the parser below only has to handle well-formed text.
 */

export interface IpAddress {
  family: 4 | 6;
  /** 4 or 16 bytes, network order. */
  bytes: Uint8Array;
}

export interface Cidr extends IpAddress {
  /** Leading bits that must match. */
  prefix: number;
}

/** Drops URL brackets (`[::1]`) and an IPv6 zone (`fe80::1%eth0`), which do not change the range. */
export function bareAddress(text: string): string {
  const unbracketed = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  const zone = unbracketed.indexOf('%');
  return zone === -1 ? unbracketed : unbracketed.slice(0, zone);
}

/** Bytes of an IPv4 or IPv6 literal, or `undefined` when `text` is not one. */
export function parseIp(text: string): IpAddress | undefined {
  const bare = bareAddress(text);
  const family = isIP(bare);
  if (family === 4) return { family, bytes: Uint8Array.from(bare.split('.'), Number) };
  if (family !== 6) return undefined;
  let body = bare;
  // A trailing dotted quad (`::ffff:127.0.0.1`) is the last 32 bits.
  const tail: number[] = [];
  const lastColon = body.lastIndexOf(':');
  if (body.includes('.', lastColon)) {
    tail.push(
      ...body
        .slice(lastColon + 1)
        .split('.')
        .map(Number),
    );
    body = `${body.slice(0, lastColon + 1)}0:0`;
  }
  const [head = '', rest] = body.split('::');
  const groups = (part: string) => (part === '' ? [] : part.split(':').map((g) => Number.parseInt(g, 16)));
  const left = groups(head);
  const right = rest === undefined ? [] : groups(rest);
  const all = [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  const bytes = new Uint8Array(16);
  all.forEach((g, i) => {
    bytes[2 * i] = g >> 8;
    bytes[2 * i + 1] = g & 0xff;
  });
  if (tail.length === 4) bytes.set(tail, 12);
  return { family: 6, bytes };
}

/** `a.b.c.d/n` or `x::y/n`; a bare address is a block of one. Throws on anything else. */
export function parseCidr(text: string): Cidr {
  const slash = text.lastIndexOf('/');
  const address = parseIp(slash === -1 ? text : text.slice(0, slash));
  const max = address?.family === 4 ? 32 : 128;
  const prefix = slash === -1 ? max : Number(text.slice(slash + 1));
  if (!address || !Number.isInteger(prefix) || prefix < 0 || prefix > max || text.slice(slash + 1) === '') {
    throw new TypeError(`not an IP address or CIDR block: ${text}`);
  }
  return { ...address, prefix };
}

/** Whether `address` lies in `block` (same family only; callers unwrap IPv4-in-IPv6 themselves). */
export function inCidr(address: IpAddress, block: Cidr): boolean {
  if (address.family !== block.family) return false;
  const whole = block.prefix >> 3;
  for (let i = 0; i < whole; i++) if (address.bytes[i] !== block.bytes[i]) return false;
  const bits = block.prefix & 7;
  if (bits === 0) return true;
  const mask = (0xff << (8 - bits)) & 0xff;
  return ((address.bytes[whole]! ^ block.bytes[whole]!) & mask) === 0;
}

/** The IPv4 address in four bytes of an IPv6 address, starting at `offset`. */
export function embeddedIpv4(address: IpAddress, offset: number): IpAddress {
  return { family: 4, bytes: address.bytes.slice(offset, offset + 4) };
}

/** Dotted-quad text of an IPv4 address. */
export function formatIpv4(address: IpAddress): string {
  return Array.from(address.bytes).join('.');
}
