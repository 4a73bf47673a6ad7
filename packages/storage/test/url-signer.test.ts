import { describe, expect, it } from 'vitest';
import { createUrlSigner, StorageKeyError } from '../src/index.js';

const SECRET = 'test-secret-0123456789abcdef-0123456789';
const T0 = Date.parse('2026-03-01T12:00:00Z');
const KEY = 'outputs/t1/job-1/0.png';

function signerAt(clock: { ms: number }, secret = SECRET) {
  return createUrlSigner({ secret, baseUrl: 'http://127.0.0.1:8080/', now: () => clock.ms });
}

function parts(url: string) {
  const u = new URL(url);
  return {
    key: decodeURIComponent(u.pathname.replace(/^\/v1\/files\//, '')),
    expires: u.searchParams.get('expires')!,
    sig: u.searchParams.get('sig')!,
  };
}

describe('url signer', () => {
  it('signs the documented URL shape with the injected clock', () => {
    const url = signerAt({ ms: T0 }).sign(KEY, 300);
    expect(url).toMatch(
      new RegExp(
        `^http://127\\.0\\.0\\.1:8080/v1/files/${KEY}\\?expires=${T0 / 1000 + 300}&sig=[A-Za-z0-9_-]{43}$`,
      ),
    );
  });

  it('verifies its own URL as ok until expiry, then expired', () => {
    const clock = { ms: T0 };
    const signer = signerAt(clock);
    const { key, expires, sig } = parts(signer.sign(KEY, 60));
    expect(signer.verify(key, expires, sig)).toBe('ok');
    clock.ms = T0 + 59_999;
    expect(signer.verify(key, Number(expires), sig)).toBe('ok');
    clock.ms = T0 + 60_000;
    expect(signer.verify(key, expires, sig)).toBe('expired');
  });

  describe('when anything was changed', () => {
    const clock = { ms: T0 };
    const signer = signerAt(clock);
    const good = parts(signer.sign(KEY, 60));
    const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);

    it.each([
      ['a tampered key', { ...good, key: 'outputs/t2/job-1/0.png' }],
      ['an extended expiry', { ...good, expires: String(Number(good.expires) + 3600) }],
      ['a tampered first sig character', { ...good, sig: flip(good.sig, 0) }],
      ['a tampered last sig character', { ...good, sig: flip(good.sig, 42) }],
      ['a truncated sig', { ...good, sig: good.sig.slice(0, 42) }],
      ['a padded sig', { ...good, sig: `${good.sig}=` }],
      ['an empty sig', { ...good, sig: '' }],
      ['a non-numeric expiry', { ...good, expires: '12abc' }],
      ['a traversal key', { ...good, key: '../secret' }],
    ])('returns invalid for %s', (_label, { key, expires, sig }) => {
      expect(signer.verify(key, expires, sig)).toBe('invalid');
    });

    it('returns invalid for a URL signed with another secret, even after expiry', () => {
      const other = parts(signerAt(clock, 'another-secret-0123456789abcdef-012345').sign(KEY, 60));
      expect(signer.verify(other.key, other.expires, other.sig)).toBe('invalid');
      const later = signerAt({ ms: T0 + 3_600_000 });
      expect(later.verify(other.key, other.expires, other.sig)).toBe('invalid');
    });
  });

  it('refuses invalid keys, bad TTLs and short secrets without echoing the secret', () => {
    const signer = signerAt({ ms: T0 });
    expect(() => signer.sign('../x.png', 60)).toThrow(StorageKeyError);
    expect(() => signer.sign(KEY, 0)).toThrow(RangeError);
    let message = '';
    try {
      createUrlSigner({ secret: 'short-secret', baseUrl: 'http://x' });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain('at least 32 bytes');
    expect(message).not.toContain('short-secret');
  });
});
