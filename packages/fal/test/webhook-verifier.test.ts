import { createHash, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createFalWebhookVerifier,
  FAL_JWKS_UNAVAILABLE,
  type FalWebhookVerifierOptions,
} from '../src/index.js';
import { unusedPort } from './fal-server.js';

interface KeyPair {
  privateKey: KeyObject;
  jwk: Record<string, unknown>;
}

function newKeyPair(kid: string): KeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { privateKey, jwk: { ...publicKey.export({ format: 'jwk' }), kid, alg: 'EdDSA', use: 'sig' } };
}

/** Headers exactly as fal sends them: ED25519 over `id \n user \n ts \n sha256hex(body)`, hex. */
function signDelivery(key: KeyObject, body: Buffer, opts: { requestId?: string; timestampS: number }) {
  const requestId = opts.requestId ?? 'req-1';
  const userId = 'user-1';
  const timestamp = String(opts.timestampS);
  const hash = createHash('sha256').update(body).digest('hex');
  const message = Buffer.from(`${requestId}\n${userId}\n${timestamp}\n${hash}`, 'utf8');
  return {
    'x-fal-webhook-request-id': requestId,
    'x-fal-webhook-user-id': userId,
    'x-fal-webhook-timestamp': timestamp,
    'x-fal-webhook-signature': sign(null, message, key).toString('hex'),
  } as Record<string, string>;
}

const T0_MS = 1_767_000_000_000;
const T0_S = T0_MS / 1000;
const BODY = Buffer.from(JSON.stringify({ request_id: 'req-1', status: 'OK', payload: { images: [] } }));

describe('createFalWebhookVerifier', () => {
  let server: Server;
  let jwksUrl: string;
  /** What the JWKS server answers: a key set, or an HTTP error status. */
  let serving: { keys: Array<Record<string, unknown>> } | number;
  let jwksFetches: number;
  let clockMs: number;
  let keyA: KeyPair;
  let keyB: KeyPair;

  beforeAll(async () => {
    keyA = newKeyPair('a');
    keyB = newKeyPair('b');
    server = createServer((req, res) => {
      jwksFetches += 1;
      if (req.url !== '/.well-known/jwks.json') {
        res.writeHead(404).end();
      } else if (typeof serving === 'number') {
        res.writeHead(serving).end('down');
      } else {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(serving));
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  beforeEach(() => {
    serving = { keys: [keyA.jwk] };
    jwksFetches = 0;
    clockMs = T0_MS;
  });

  const verifier = (options: Partial<FalWebhookVerifierOptions> = {}) =>
    createFalWebhookVerifier({ jwksUrl, now: () => clockMs, ...options });

  describe('a delivery signed with a key of the JWKS', () => {
    it('verifies, naming the request and user, and fetches the JWKS once', async () => {
      const v = verifier();
      const headers = signDelivery(keyA.privateKey, BODY, { timestampS: T0_S });
      expect(await v.verify(headers, BODY)).toEqual({ ok: true, requestId: 'req-1', userId: 'user-1' });
      expect(await v.verify(headers, BODY)).toMatchObject({ ok: true });
      expect(jwksFetches).toBe(1);
    });

    it('tries every key of the JWKS', async () => {
      serving = { keys: [{ kty: 'RSA', n: 'x', e: 'AQAB' }, keyB.jwk, keyA.jwk] };
      const headers = signDelivery(keyA.privateKey, BODY, { timestampS: T0_S });
      expect(await verifier().verify(headers, BODY)).toMatchObject({ ok: true });
    });

    it('reads headers in any case, and single-element arrays', async () => {
      const signed = signDelivery(keyA.privateKey, BODY, { timestampS: T0_S });
      const headers = {
        'X-Fal-Webhook-Request-Id': signed['x-fal-webhook-request-id'],
        'X-Fal-Webhook-User-Id': [signed['x-fal-webhook-user-id']!],
        'X-FAL-WEBHOOK-TIMESTAMP': signed['x-fal-webhook-timestamp'],
        'x-fal-webhook-signature': signed['x-fal-webhook-signature']!.toUpperCase(),
      };
      expect(await verifier().verify(headers, BODY)).toMatchObject({ ok: true });
    });

    it('shares one JWKS fetch between concurrent deliveries', async () => {
      const v = verifier();
      const headers = signDelivery(keyA.privateKey, BODY, { timestampS: T0_S });
      const verdicts = await Promise.all([1, 2, 3, 4].map(() => v.verify(headers, BODY)));
      expect(verdicts.every((verdict) => verdict.ok)).toBe(true);
      expect(jwksFetches).toBe(1);
    });

    it('fetches the JWKS again once the cache expires', async () => {
      const v = verifier({ cacheMs: 3_600_000 });
      await v.verify(signDelivery(keyA.privateKey, BODY, { timestampS: T0_S }), BODY);
      clockMs += 3_600_000;
      const later = signDelivery(keyA.privateKey, BODY, { timestampS: clockMs / 1000 });
      expect(await v.verify(later, BODY)).toMatchObject({ ok: true });
      expect(jwksFetches).toBe(2);
    });
  });

  describe('a delivery that was not signed by fal', () => {
    it('is refused when the body was changed', async () => {
      const headers = signDelivery(keyA.privateKey, BODY, { timestampS: T0_S });
      const tampered = Buffer.from(BODY.toString().replace('"OK"', '"ERROR"'));
      expect(await verifier().verify(headers, tampered)).toEqual({
        ok: false,
        reason: 'signature does not match any known key',
      });
    });

    it('is refused when a signed header was changed', async () => {
      const headers = signDelivery(keyA.privateKey, BODY, { timestampS: T0_S });
      headers['x-fal-webhook-request-id'] = 'req-2';
      expect(await verifier().verify(headers, BODY)).toMatchObject({ ok: false });
    });

    it('is refused when signed with a key the JWKS does not hold, without refetching for a minute', async () => {
      const v = verifier();
      const forged = signDelivery(keyB.privateKey, BODY, { timestampS: T0_S });
      expect(await v.verify(forged, BODY)).toEqual({
        ok: false,
        reason: 'signature does not match any known key',
      });
      for (let i = 0; i < 5; i++) expect((await v.verify(forged, BODY)).ok).toBe(false);
      expect(jwksFetches).toBe(1);
    });
  });

  describe('the timestamp', () => {
    it.each([
      ['300 s old', -300, true],
      ['300 s ahead', 300, true],
      ['301 s old', -301, false],
      ['301 s ahead', 301, false],
      ['a day old', -86_400, false],
    ])('%s: accepted = %s', async (_label, offsetS, accepted) => {
      const headers = signDelivery(keyA.privateKey, BODY, { timestampS: T0_S + offsetS });
      const verdict = await verifier().verify(headers, BODY);
      expect(verdict.ok).toBe(accepted);
      if (!verdict.ok) expect(verdict.reason).toMatch(/^stale timestamp/);
    });

    it('is checked against toleranceS', async () => {
      const headers = signDelivery(keyA.privateKey, BODY, { timestampS: T0_S - 61 });
      expect((await verifier({ toleranceS: 60 }).verify(headers, BODY)).ok).toBe(false);
    });

    it('is checked before the JWKS is fetched', async () => {
      const headers = signDelivery(keyA.privateKey, BODY, { timestampS: T0_S - 3_600 });
      await verifier().verify(headers, BODY);
      expect(jwksFetches).toBe(0);
    });
  });

  describe('malformed headers', () => {
    it.each([
      'x-fal-webhook-request-id',
      'x-fal-webhook-user-id',
      'x-fal-webhook-timestamp',
      'x-fal-webhook-signature',
    ])('refuses a delivery without %s', async (name) => {
      const headers: Record<string, string | undefined> = signDelivery(keyA.privateKey, BODY, {
        timestampS: T0_S,
      });
      headers[name] = undefined;
      expect(await verifier().verify(headers, BODY)).toEqual({ ok: false, reason: `missing header ${name}` });
    });

    it.each([
      ['not hex', 'zz'.repeat(64)],
      ['too short', 'ab'.repeat(63)],
      ['too long', 'ab'.repeat(65)],
      ['base64', Buffer.alloc(64, 1).toString('base64')],
    ])('refuses a signature that is %s', async (_label, signature) => {
      const headers = signDelivery(keyA.privateKey, BODY, { timestampS: T0_S });
      headers['x-fal-webhook-signature'] = signature;
      expect(await verifier().verify(headers, BODY)).toEqual({
        ok: false,
        reason: 'header x-fal-webhook-signature is not 64 hex-encoded bytes',
      });
    });

    it.each(['soon', '1.5', '-1', ''])('refuses the timestamp %j', async (timestamp) => {
      const headers = signDelivery(keyA.privateKey, BODY, { timestampS: T0_S });
      headers['x-fal-webhook-timestamp'] = timestamp;
      expect((await verifier().verify(headers, BODY)).ok).toBe(false);
    });

    it('refuses a repeated header', async () => {
      const headers: Record<string, string | string[]> = signDelivery(keyA.privateKey, BODY, {
        timestampS: T0_S,
      });
      headers['x-fal-webhook-request-id'] = ['req-1', 'req-2'];
      expect(await verifier().verify(headers, BODY)).toEqual({
        ok: false,
        reason: 'header x-fal-webhook-request-id is repeated',
      });
    });

    it('never throws on garbage input', async () => {
      const v = verifier();
      const signed = signDelivery(keyA.privateKey, BODY, { timestampS: T0_S });
      await expect(v.verify({}, BODY)).resolves.toMatchObject({ ok: false });
      await expect(v.verify(undefined as never, BODY)).resolves.toMatchObject({ ok: false });
      await expect(v.verify(signed, undefined as never)).resolves.toEqual({
        ok: false,
        reason: 'no raw body to verify',
      });
      await expect(v.verify(signed, 'text' as never)).resolves.toMatchObject({ ok: false });
    });
  });

  describe('key rotation', () => {
    it('fetches the JWKS again when no cached key verifies, at most once a minute', async () => {
      const v = verifier();
      expect((await v.verify(signDelivery(keyA.privateKey, BODY, { timestampS: T0_S }), BODY)).ok).toBe(true);
      serving = { keys: [keyB.jwk] };

      // Within a minute of the last fetch the new key is not looked for.
      clockMs += 30_000;
      const early = signDelivery(keyB.privateKey, BODY, { timestampS: clockMs / 1000 });
      expect((await v.verify(early, BODY)).ok).toBe(false);
      expect(jwksFetches).toBe(1);

      clockMs += 30_000;
      const rotated = signDelivery(keyB.privateKey, BODY, { timestampS: clockMs / 1000 });
      expect(await v.verify(rotated, BODY)).toMatchObject({ ok: true });
      expect(jwksFetches).toBe(2);
      // The retired key is gone from the cache.
      const old = signDelivery(keyA.privateKey, BODY, { timestampS: clockMs / 1000 });
      expect((await v.verify(old, BODY)).ok).toBe(false);
      expect(jwksFetches).toBe(2);
    });

    it('keeps the cached keys when the refetch fails', async () => {
      const v = verifier();
      await v.verify(signDelivery(keyA.privateKey, BODY, { timestampS: T0_S }), BODY);
      serving = 503;
      clockMs += 61_000;
      const forged = signDelivery(keyB.privateKey, BODY, { timestampS: clockMs / 1000 });
      expect((await v.verify(forged, BODY)).ok).toBe(false);
      const genuine = signDelivery(keyA.privateKey, BODY, { timestampS: clockMs / 1000 });
      expect((await v.verify(genuine, BODY)).ok).toBe(true);
      expect(jwksFetches).toBe(2);
    });
  });

  describe('when the JWKS cannot be fetched', () => {
    it.each([
      ['answers 503', 503],
      ['answers 404', 404],
    ])('reports "jwks unavailable" when it %s, and says why', async (_label, status) => {
      serving = status;
      const errors: unknown[] = [];
      const v = verifier({ onJwksError: (error) => errors.push(error) });
      const headers = signDelivery(keyA.privateKey, BODY, { timestampS: T0_S });
      expect(await v.verify(headers, BODY)).toEqual({ ok: false, reason: FAL_JWKS_UNAVAILABLE });
      expect(String(errors[0])).toContain(`HTTP ${status}`);
    });

    it('reports "jwks unavailable" when nothing listens', async () => {
      const v = createFalWebhookVerifier({
        jwksUrl: `http://127.0.0.1:${await unusedPort()}/.well-known/jwks.json`,
        now: () => clockMs,
      });
      const headers = signDelivery(keyA.privateKey, BODY, { timestampS: T0_S });
      expect(await v.verify(headers, BODY)).toEqual({ ok: false, reason: FAL_JWKS_UNAVAILABLE });
    });

    it('reports "jwks unavailable" when the JWKS holds no Ed25519 key', async () => {
      serving = { keys: [{ kty: 'OKP', crv: 'X25519', x: keyA.jwk.x }] };
      const headers = signDelivery(keyA.privateKey, BODY, { timestampS: T0_S });
      expect(await verifier().verify(headers, BODY)).toEqual({ ok: false, reason: FAL_JWKS_UNAVAILABLE });
    });

    it('tries again after a short backoff and verifies once the JWKS is back', async () => {
      serving = 503;
      const v = verifier({ failureBackoffMs: 5_000 });
      const headers = () => signDelivery(keyA.privateKey, BODY, { timestampS: clockMs / 1000 });
      expect((await v.verify(headers(), BODY)).ok).toBe(false);
      serving = { keys: [keyA.jwk] };
      clockMs += 1_000;
      expect(await v.verify(headers(), BODY)).toEqual({ ok: false, reason: FAL_JWKS_UNAVAILABLE });
      expect(jwksFetches).toBe(1);
      clockMs += 4_000;
      expect(await v.verify(headers(), BODY)).toMatchObject({ ok: true });
      expect(jwksFetches).toBe(2);
    });

    it('does not use keys older than the cache lifetime', async () => {
      const v = verifier();
      await v.verify(signDelivery(keyA.privateKey, BODY, { timestampS: T0_S }), BODY);
      serving = 503;
      clockMs += 86_400_000;
      const headers = signDelivery(keyA.privateKey, BODY, { timestampS: clockMs / 1000 });
      expect(await v.verify(headers, BODY)).toEqual({ ok: false, reason: FAL_JWKS_UNAVAILABLE });
    });
  });
});
