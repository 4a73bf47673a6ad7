import { describe, expect, it } from 'vitest';
import { checkUrl, type ResolvedAddress } from '../src/index.js';

/** A resolver that answers `answers` for every host and counts its calls. */
function resolverOf(...answers: string[]) {
  const calls: string[] = [];
  const resolve = async (host: string): Promise<ResolvedAddress[]> => {
    calls.push(host);
    return answers.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return { resolve, calls };
}

/** Fails the test if the guard resolves an IP literal. */
const noDns = async (host: string): Promise<ResolvedAddress[]> => {
  throw new Error(`unexpected DNS lookup of ${host}`);
};

describe('checkUrl', () => {
  describe('when the URL holds an IP literal', () => {
    it.each([
      ['http://127.0.0.1/', '127.0.0.1 is a loopback address'],
      ['http://127.8.9.10:6379/', '127.8.9.10 is a loopback address'],
      ['http://10.0.0.1/', '10.0.0.1 is a private address'],
      ['http://172.16.5.4/', '172.16.5.4 is a private address'],
      ['http://192.168.1.1/', '192.168.1.1 is a private address'],
      ['http://100.64.0.1/', '100.64.0.1 is a carrier-grade NAT (shared) address'],
      ['http://169.254.169.254/latest/meta-data/', '169.254.169.254 is a cloud metadata address'],
      ['http://169.254.1.1/', '169.254.1.1 is a link-local address'],
      ['http://0.0.0.0/', '0.0.0.0 is an unspecified ("this network") address'],
      ['http://198.18.0.1/', '198.18.0.1 is a benchmarking address'],
      ['http://224.0.0.1/', '224.0.0.1 is a multicast address'],
      ['http://240.0.0.1/', '240.0.0.1 is a reserved address'],
      ['http://255.255.255.255/', '255.255.255.255 is the broadcast address'],
      ['http://192.0.2.1/', '192.0.2.1 is a documentation address'],
      ['http://[::1]/', '::1 is a loopback address'],
      ['http://[::]/', ':: is the unspecified address'],
      ['http://[fd00:ec2::254]/', 'fd00:ec2::254 is a cloud metadata address'],
      ['http://[fd12:3456::1]/', 'fd12:3456::1 is a private (unique local) address'],
      ['http://[fe80::1]/', 'fe80::1 is a link-local address'],
      ['http://[ff02::1]/', 'ff02::1 is a multicast address'],
      ['http://[2001:db8::1]/', '2001:db8::1 is a documentation address'],
      ['http://[fec0::1]/', 'fec0::1 is a site-local address'],
      ['http://[4000::1]/', '4000::1 is not a global unicast address'],
    ])('refuses %s', async (url, reason) => {
      expect(await checkUrl(url, { resolve: noDns })).toEqual({ ok: false, reason });
    });

    describe('in a form the URL parser normalises', () => {
      it.each([
        // Check what URL makes of each, so the table documents the normalisation it relies on.
        ['http://2130706433/', '127.0.0.1', '127.0.0.1 is a loopback address'],
        ['http://0x7f.1/', '127.0.0.1', '127.0.0.1 is a loopback address'],
        ['http://0177.0.0.1/', '127.0.0.1', '127.0.0.1 is a loopback address'],
        ['http://127.1/', '127.0.0.1', '127.0.0.1 is a loopback address'],
        ['http://0/', '0.0.0.0', '0.0.0.0 is an unspecified ("this network") address'],
        ['http://0xa9fea9fe/', '169.254.169.254', '169.254.169.254 is a cloud metadata address'],
        [
          'http://[::ffff:127.0.0.1]/',
          '[::ffff:7f00:1]',
          '::ffff:7f00:1 is an IPv4-mapped IPv6 address of 127.0.0.1, a loopback address',
        ],
        [
          'http://[::ffff:7f00:1]/',
          '[::ffff:7f00:1]',
          '::ffff:7f00:1 is an IPv4-mapped IPv6 address of 127.0.0.1, a loopback address',
        ],
        [
          'http://[::ffff:169.254.169.254]/',
          '[::ffff:a9fe:a9fe]',
          '::ffff:a9fe:a9fe is an IPv4-mapped IPv6 address of 169.254.169.254, a cloud metadata address',
        ],
        [
          'http://[0:0:0:0:0:ffff:10.0.0.1]/',
          '[::ffff:a00:1]',
          '::ffff:a00:1 is an IPv4-mapped IPv6 address of 10.0.0.1, a private address',
        ],
        [
          'http://[::127.0.0.1]/',
          '[::7f00:1]',
          '::7f00:1 is an IPv4-compatible IPv6 address of 127.0.0.1, a loopback address',
        ],
        [
          'http://[64:ff9b::10.0.0.1]/',
          '[64:ff9b::a00:1]',
          '64:ff9b::a00:1 is a NAT64 address of 10.0.0.1, a private address',
        ],
        [
          'http://[2002:7f00:1::1]/',
          '[2002:7f00:1::1]',
          '2002:7f00:1::1 is a 6to4 address of 127.0.0.1, a loopback address',
        ],
        ['http://[0::1]/', '[::1]', '::1 is a loopback address'],
        ['http://[FE80::1]/', '[fe80::1]', 'fe80::1 is a link-local address'],
      ])('refuses %s (URL makes it %s)', async (url, hostname, reason) => {
        expect(new URL(url).hostname).toBe(hostname);
        expect(await checkUrl(url, { resolve: noDns })).toEqual({ ok: false, reason });
      });
    });

    it.each([
      ['http://93.184.216.34/hook', '93.184.216.34', 4],
      ['https://8.8.8.8:8443/x?y=1', '8.8.8.8', 4],
      ['http://[2606:4700::1111]/', '2606:4700::1111', 6],
      ['http://[::ffff:93.184.216.34]/', '::ffff:5db8:d822', 6],
    ])('accepts the public address %s without a DNS lookup', async (url, address, family) => {
      const result = await checkUrl(url, { resolve: noDns });
      expect(result).toMatchObject({ ok: true, address, family });
      expect(result.ok && result.url.href).toBe(new URL(url).href);
    });
  });

  describe('when the URL itself is unacceptable', () => {
    it.each([
      ['ftp://example.com/file', 'unsupported scheme ftp:'],
      ['file:///etc/passwd', 'unsupported scheme file:'],
      ['gopher://example.com:6379/_INFO', 'unsupported scheme gopher:'],
      ['javascript:alert(1)', 'unsupported scheme javascript:'],
      ['not a url', 'invalid URL'],
      ['https://user:pass@example.com/', 'URL must not contain credentials (user:password@)'],
      ['https://token@example.com/', 'URL must not contain credentials (user:password@)'],
    ])('refuses %s', async (url, reason) => {
      expect(await checkUrl(url, { resolve: resolverOf('93.184.216.34').resolve })).toEqual({
        ok: false,
        reason,
      });
    });
  });

  describe('when the URL holds a host name', () => {
    it('resolves it once and pins the first public address', async () => {
      const { resolve, calls } = resolverOf('93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946');
      const result = await checkUrl('https://hooks.example.com/in', { resolve });
      expect(result).toMatchObject({ ok: true, address: '93.184.216.34', family: 4 });
      expect(calls).toEqual(['hooks.example.com']);
    });

    it('refuses a name that resolves to a private address, naming both', async () => {
      const { resolve } = resolverOf('10.1.2.3');
      expect(await checkUrl('https://internal.example.com/', { resolve })).toEqual({
        ok: false,
        reason: 'internal.example.com resolves to 10.1.2.3, a private address',
      });
    });

    it('refuses a name with one public and one private address (any address could be dialled)', async () => {
      const { resolve } = resolverOf('93.184.216.34', '127.0.0.1');
      expect(await checkUrl('https://mixed.example.com/', { resolve })).toEqual({
        ok: false,
        reason: 'mixed.example.com resolves to 127.0.0.1, a loopback address',
      });
    });

    it('refuses a name that resolves to an IPv4-mapped private address', async () => {
      const { resolve } = resolverOf('::ffff:192.168.0.10');
      expect(await checkUrl('https://mapped.example.com/', { resolve })).toEqual({
        ok: false,
        reason:
          'mapped.example.com resolves to ::ffff:192.168.0.10, an IPv4-mapped IPv6 address of 192.168.0.10, a private address',
      });
    });

    // Issue 11: a name DNS says does not exist is final; only a failing resolver may pass for later.
    it('refuses a name that does not exist as not-found, without asking DNS for .invalid', async () => {
      let asked = 0;
      const failing = async () => {
        asked++;
        throw Object.assign(new Error('getaddrinfo ENOTFOUND nowhere.example'), { code: 'ENOTFOUND' });
      };
      expect(await checkUrl('https://nowhere.example/', { resolve: failing })).toEqual({
        ok: false,
        reason: 'no such host nowhere.example (ENOTFOUND)',
        dns: 'not-found',
      });
      expect(asked).toBe(1);
      expect(await checkUrl('https://no-such-host.INVALID./x', { resolve: failing })).toEqual({
        ok: false,
        reason: 'no such host no-such-host.invalid (.invalid names never resolve)',
        dns: 'not-found',
      });
      expect(asked).toBe(1);
      expect(await checkUrl('https://empty.example.com/', { resolve: resolverOf().resolve })).toEqual({
        ok: false,
        reason: 'no such host empty.example.com (no address)',
        dns: 'not-found',
      });
    });

    it.each(['EAI_AGAIN', 'ETIMEOUT', 'ESERVFAIL'])(
      'marks a resolver failure (%s) as unavailable, to be checked again later',
      async (code) => {
        const failing = async () => {
          throw Object.assign(new Error(`getaddrinfo ${code} hooks.example.com`), { code });
        };
        expect(await checkUrl('https://hooks.example.com/', { resolve: failing })).toEqual({
          ok: false,
          reason: `could not resolve hooks.example.com: ${code}`,
          dns: 'unavailable',
        });
      },
    );

    it('refuses .invalid names with the default resolver too (RFC 6761)', async () => {
      const result = await checkUrl('http://no-such-host.invalid/');
      expect(result).toMatchObject({ ok: false, dns: 'not-found' });
    });

    it('uses the system resolver by default (localhost is loopback)', async () => {
      const result = await checkUrl('http://localhost:8080/');
      expect(result.ok).toBe(false);
      expect(!result.ok && result.reason).toMatch(
        /^localhost resolves to (127\.0\.0\.1|::1), a loopback address$/,
      );
    });
  });

  describe('when an allow-list is configured', () => {
    it('lets an allow-listed address through by CIDR, still pinned', async () => {
      expect(
        await checkUrl('http://127.0.0.1:3000/hook', { allow: ['127.0.0.1/32'], resolve: noDns }),
      ).toMatchObject({
        ok: true,
        address: '127.0.0.1',
        family: 4,
      });
      expect(await checkUrl('http://[::1]:3000/', { allow: ['::1/128'], resolve: noDns })).toMatchObject({
        ok: true,
        address: '::1',
        family: 6,
      });
      expect(await checkUrl('http://10.20.30.40/', { allow: ['10.0.0.0/8'], resolve: noDns })).toMatchObject({
        ok: true,
      });
    });

    it('accepts bare IP literals and IPv4 blocks for IPv4-mapped addresses', async () => {
      expect(await checkUrl('http://127.0.0.1/', { allow: ['127.0.0.1'], resolve: noDns })).toMatchObject({
        ok: true,
      });
      expect(
        await checkUrl('http://[::ffff:127.0.0.1]/', { allow: ['127.0.0.0/8'], resolve: noDns }),
      ).toMatchObject({
        ok: true,
        address: '::ffff:7f00:1',
      });
    });

    it('lets an allow-listed host name through whatever it resolves to, pinning the answer', async () => {
      const { resolve, calls } = resolverOf('127.0.0.1');
      expect(
        await checkUrl('http://Receiver.Local:9000/', { allow: ['receiver.local'], resolve }),
      ).toMatchObject({
        ok: true,
        address: '127.0.0.1',
      });
      expect(calls).toEqual(['receiver.local']);
    });

    it('still refuses what the list does not cover', async () => {
      const allow = ['127.0.0.1/32', 'receiver.local'];
      expect(await checkUrl('http://127.0.0.2/', { allow, resolve: noDns })).toEqual({
        ok: false,
        reason: '127.0.0.2 is a loopback address',
      });
      expect(
        await checkUrl('http://other.local/', { allow, resolve: resolverOf('10.0.0.1').resolve }),
      ).toEqual({
        ok: false,
        reason: 'other.local resolves to 10.0.0.1, a private address',
      });
      // An allowed address does not excuse another address of the same name.
      expect(
        await checkUrl('http://two.local/', {
          allow,
          resolve: resolverOf('127.0.0.1', '169.254.169.254').resolve,
        }),
      ).toEqual({ ok: false, reason: 'two.local resolves to 169.254.169.254, a cloud metadata address' });
    });

    it('throws on a malformed CIDR, so a configuration typo is loud', async () => {
      await expect(checkUrl('http://127.0.0.1/', { allow: ['127.0.0.1/33'] })).rejects.toThrow(
        'not an IP address or CIDR block: 127.0.0.1/33',
      );
    });
  });
});
