import { promises as dns } from 'node:dns';
import { refusedRange } from './address-ranges.js';
import { bareAddress, type Cidr, type IpAddress, inCidr, parseCidr, parseIp } from './ip-address.js';

/**
 * The SSRF guard for tenant-supplied URLs (webhook endpoints, input image URLs; DESIGN
 * §7). It resolves the host once, refuses the URL when any address is not public, and
 * hands back the address it checked, so the request is made to exactly that address
 * (`pinned-request.ts`) and a DNS server cannot answer differently the second time
 * (DNS rebinding). Every address must pass, not just the first: the connection code
 * could pick any of them.
 */

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Host name → every address it resolves to, in the resolver's order. */
export type Resolve = (host: string) => Promise<ResolvedAddress[]>;

export interface CheckUrlOptions {
  /**
   * Exceptions for tests and local use: host names (exact, case-insensitive), IP
   * literals or CIDR blocks (`127.0.0.1/32`, `::1/128`). An allowed URL is still
   * resolved once and pinned. @defaultValue []
   */
  allow?: readonly string[];
  /** Name resolution. @defaultValue `dns.promises.lookup(host, { all: true, verbatim: true })` */
  resolve?: Resolve;
}

export interface CheckedUrl {
  ok: true;
  url: URL;
  /** The address to connect to, and the only one. */
  address: string;
  family: 4 | 6;
}

export interface RefusedUrl {
  ok: false;
  /** What was refused and why, e.g. `127.0.0.1 is a loopback address`. */
  reason: string;
  /**
   * Set when the host name did not resolve: `not-found` when DNS said the name does not
   * exist (NXDOMAIN, no address: `ENOTFOUND`, or a name under `.invalid`, which RFC 6761
   * reserves never to resolve), which will not change by asking again; `unavailable`
   * when the resolver failed (timeout, SERVFAIL: `EAI_AGAIN` and the like), which may.
   */
  dns?: 'not-found' | 'unavailable';
}

export type UrlCheck = CheckedUrl | RefusedUrl;

/** The system resolver (getaddrinfo, so /etc/hosts too), in its own order. */
export const systemResolve: Resolve = async (host) => {
  const answers = await dns.lookup(host, { all: true, verbatim: true });
  return answers.map(({ address, family }) => ({ address, family: family === 6 ? 6 : 4 }));
};

interface AllowList {
  hosts: Set<string>;
  blocks: Cidr[];
}

const normalHost = (host: string) => host.toLowerCase().replace(/\.$/, '');

/** Splits allow entries into host names and address blocks; throws on a malformed CIDR. */
function compileAllowList(entries: readonly string[]): AllowList {
  const allow: AllowList = { hosts: new Set(), blocks: [] };
  for (const raw of entries) {
    const entry = raw.trim();
    if (entry === '') continue;
    if (entry.includes('/') || parseIp(entry)) allow.blocks.push(parseCidr(bareAddress(entry)));
    else allow.hosts.add(normalHost(entry));
  }
  return allow;
}

/** Allow-listed by block, looking through an IPv4-mapped address to its IPv4 form too. */
function allowedAddress(address: IpAddress, allow: AllowList): boolean {
  if (allow.blocks.some((block) => inCidr(address, block))) return true;
  const b = address.bytes;
  const mapped =
    address.family === 6 && b.slice(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;
  if (!mapped) return false;
  const ipv4: IpAddress = { family: 4, bytes: b.slice(12) };
  return allow.blocks.some((block) => inCidr(ipv4, block));
}

const errorCode = (err: unknown) =>
  (err as { code?: unknown })?.code ?? (err instanceof Error ? err.message : String(err));

/** getaddrinfo's answers that mean "this name has no address" (Node maps NONAME and NODATA here). */
const NAME_NOT_FOUND_CODES = new Set(['ENOTFOUND', 'ENODATA', 'EAI_NONAME', 'EAI_NODATA']);

/** RFC 6761 §6.4: names under `.invalid` never resolve; no need to ask a resolver. */
const isReservedInvalid = (host: string) => /(^|\.)invalid$/.test(normalHost(host));

/**
 * Checks a URL before anything is sent to it: http(s) only, no credentials in it, and a
 * host whose every address is public (or allow-listed). Never throws for a bad URL; it
 * says why in `reason`.
 */
export async function checkUrl(url: string, options: CheckUrlOptions = {}): Promise<UrlCheck> {
  const allow = compileAllowList(options.allow ?? []);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { ok: false, reason: 'invalid URL' };
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    return { ok: false, reason: `unsupported scheme ${parsed.protocol}` };
  }
  if (parsed.username !== '' || parsed.password !== '') {
    return { ok: false, reason: 'URL must not contain credentials (user:password@)' };
  }

  const host = parsed.hostname;
  const literal = parseIp(host);
  let answers: ResolvedAddress[];
  if (literal) {
    answers = [{ address: bareAddress(host), family: literal.family }];
  } else if (isReservedInvalid(host)) {
    return {
      ok: false,
      reason: `no such host ${normalHost(host)} (.invalid names never resolve)`,
      dns: 'not-found',
    };
  } else {
    try {
      answers = await (options.resolve ?? systemResolve)(host);
    } catch (err) {
      const code = errorCode(err);
      if (NAME_NOT_FOUND_CODES.has(String(code))) {
        return { ok: false, reason: `no such host ${host} (${code})`, dns: 'not-found' };
      }
      return { ok: false, reason: `could not resolve ${host}: ${code}`, dns: 'unavailable' };
    }
    if (answers.length === 0) {
      return { ok: false, reason: `no such host ${host} (no address)`, dns: 'not-found' };
    }
  }

  const hostAllowed = allow.hosts.has(normalHost(host));
  let pinned: ResolvedAddress | undefined;
  for (const answer of answers) {
    const address = parseIp(answer.address);
    if (!address)
      return { ok: false, reason: `${host} resolved to ${answer.address}, which is not an IP address` };
    pinned ??= { address: bareAddress(answer.address), family: address.family };
    if (hostAllowed || allowedAddress(address, allow)) continue;
    const refused = refusedRange(address);
    if (refused === undefined) continue;
    return {
      ok: false,
      reason: literal
        ? `${answer.address} is ${refused}`
        : `${host} resolves to ${answer.address}, ${refused}`,
    };
  }
  // `answers` is non-empty, so the loop has pinned the first address.
  return { ok: true, url: parsed, address: pinned!.address, family: pinned!.family };
}
