/**
 * HMAC-signed file URLs: `${baseUrl}/v1/files/${key}?expires=<unix s>&sig=<base64url>`,
 * where sig = HMAC-SHA256(secret, `${key}\n${expires}`). The newline cannot occur in a
 * valid key, so no two (key, expires) pairs sign the same message.
 */

import { createHmac, timingSafeEqual } from 'node:crypto';
import { assertValidKey } from './keys.js';

export interface UrlSignerOptions {
  /** HMAC key; at least 32 bytes (characters, for a string). Never echoed in errors. */
  secret: string | Uint8Array;
  /** Public origin of the API that serves `/v1/files/*`, e.g. `http://127.0.0.1:8080`. */
  baseUrl: string;
  /** Clock, in milliseconds since the epoch. @defaultValue Date.now */
  now?: () => number;
}

export type VerifyResult = 'ok' | 'expired' | 'invalid';

export interface UrlSigner {
  /** Signed URL valid for `ttlSeconds` from now. Throws StorageKeyError for an invalid key. */
  sign(key: string, ttlSeconds: number): string;
  /** Checks the signature first, then expiry: a forged URL is `invalid` even when stale. */
  verify(key: string, expires: string | number, sig: string): VerifyResult;
}

const MIN_SECRET_BYTES = 32;
const SIG_PATTERN = /^[A-Za-z0-9_-]{43}$/;
const EXPIRES_PATTERN = /^\d{1,12}$/;

export function createUrlSigner({ secret, baseUrl, now = Date.now }: UrlSignerOptions): UrlSigner {
  const secretBytes = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : Buffer.from(secret);
  if (secretBytes.byteLength < MIN_SECRET_BYTES) {
    throw new RangeError(`URL signing secret must be at least ${MIN_SECRET_BYTES} bytes`);
  }
  const origin = baseUrl.replace(/\/+$/, '');
  const mac = (key: string, expires: number) =>
    createHmac('sha256', secretBytes).update(`${key}\n${expires}`).digest();

  return {
    sign(key, ttlSeconds) {
      assertValidKey(key);
      if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds <= 0) {
        throw new RangeError('ttlSeconds must be a positive integer');
      }
      const expires = Math.floor(now() / 1000) + ttlSeconds;
      const sig = mac(key, expires).toString('base64url');
      return `${origin}/v1/files/${key}?expires=${expires}&sig=${sig}`;
    },

    verify(key, expires, sig) {
      const expiresText = String(expires);
      if (!EXPIRES_PATTERN.test(expiresText) || typeof sig !== 'string' || !SIG_PATTERN.test(sig))
        return 'invalid';
      try {
        assertValidKey(key);
      } catch {
        return 'invalid';
      }
      // Compare the canonical text, not decoded bytes: base64url of 32 bytes has 2 spare bits,
      // so decoding would accept altered last characters. timingSafeEqual throws on unequal
      // lengths, hence the explicit length check first.
      const given = Buffer.from(sig, 'utf8');
      const expected = Buffer.from(mac(key, Number(expiresText)).toString('base64url'), 'utf8');
      if (given.byteLength !== expected.byteLength || !timingSafeEqual(given, expected)) return 'invalid';
      return Math.floor(now() / 1000) >= Number(expiresText) ? 'expired' : 'ok';
    },
  };
}
