import { createHash, createPublicKey, type KeyObject, verify as verifySignature } from 'node:crypto';

/** Headers fal signs a webhook delivery with (fal.md §3), lower-cased as Node delivers them. */
export const FAL_WEBHOOK_HEADERS = {
  requestId: 'x-fal-webhook-request-id',
  userId: 'x-fal-webhook-user-id',
  timestamp: 'x-fal-webhook-timestamp',
  signature: 'x-fal-webhook-signature',
} as const;

/** fal's JWKS (fal.md §3; `rest.alpha.fal.ai` in older docs). */
export const FAL_JWKS_URL = 'https://rest.fal.ai/.well-known/jwks.json';

/** The `reason` when the JWKS could not be fetched: our problem, not the sender's. */
export const FAL_JWKS_UNAVAILABLE = 'jwks unavailable';

export interface FalWebhookVerifierOptions {
  /** Where fal's public keys are, e.g. {@link FAL_JWKS_URL}. */
  jwksUrl: string;
  /** @defaultValue globalThis.fetch */
  fetch?: typeof fetch;
  /** Clock, epoch ms. @defaultValue Date.now */
  now?: () => number;
  /** How long fetched keys are used before fetching again; fal says at most 24 h. @defaultValue 86_400_000 */
  cacheMs?: number;
  /** Largest accepted |now − X-Fal-Webhook-Timestamp|, seconds. @defaultValue 300 */
  toleranceS?: number;
  /**
   * When no cached key verifies a signature, the JWKS is fetched again (fal rotated its keys)
   * at most this often, so forged deliveries cannot make us hammer the JWKS. @defaultValue 60_000
   */
  refetchIntervalMs?: number;
  /** After a failed JWKS fetch, the next attempt waits this long. @defaultValue 5_000 */
  failureBackoffMs?: number;
  /** Timeout of one JWKS fetch. @defaultValue 5_000 */
  fetchTimeoutMs?: number;
  /** Told why a JWKS fetch failed (verify only reports {@link FAL_JWKS_UNAVAILABLE}). */
  onJwksError?: (error: unknown) => void;
}

export type FalWebhookVerdict =
  | { ok: true; requestId: string; userId: string }
  | { ok: false; reason: string };

export interface FalWebhookVerifier {
  /**
   * Checks a delivery's ED25519 signature over
   * `${requestId}\n${userId}\n${timestamp}\n${sha256_hex(rawBody)}` against every key of the
   * JWKS, and its timestamp against the clock. Never throws.
   */
  verify(headers: Record<string, string | string[] | undefined>, rawBody: Buffer): Promise<FalWebhookVerdict>;
}

const DAY_MS = 86_400_000;
const SIGNATURE_HEX = /^[0-9a-fA-F]{128}$/;
const UNIX_SECONDS = /^\d{1,12}$/;

interface KeySet {
  keys: KeyObject[];
  fetchedAt: number;
}

/** Verifies fal webhook deliveries (fal.md §3) with keys fetched from a JWKS and cached. */
export function createFalWebhookVerifier(options: FalWebhookVerifierOptions): FalWebhookVerifier {
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const now = options.now ?? Date.now;
  const cacheMs = Math.min(options.cacheMs ?? DAY_MS, DAY_MS);
  const toleranceS = options.toleranceS ?? 300;
  const refetchIntervalMs = options.refetchIntervalMs ?? 60_000;
  const failureBackoffMs = options.failureBackoffMs ?? 5_000;
  const fetchTimeoutMs = options.fetchTimeoutMs ?? 5_000;

  let cached: KeySet | undefined;
  /** When the JWKS was last asked for, successfully or not. */
  let lastAttemptAt = Number.NEGATIVE_INFINITY;
  let lastAttemptFailed = false;
  /** Concurrent deliveries share one fetch. */
  let inflight: Promise<KeySet | undefined> | undefined;

  const refresh = (): Promise<KeySet | undefined> => {
    inflight ??= (async () => {
      lastAttemptAt = now();
      try {
        const keySet = {
          keys: await fetchKeys(fetchImpl, options.jwksUrl, fetchTimeoutMs),
          fetchedAt: now(),
        };
        cached = keySet;
        lastAttemptFailed = false;
        return keySet;
      } catch (error) {
        lastAttemptFailed = true;
        options.onJwksError?.(error);
        return undefined;
      } finally {
        inflight = undefined;
      }
    })();
    return inflight;
  };

  /** Cached keys while fresh; otherwise a fetch, unless one failed moments ago. */
  const currentKeys = async (): Promise<KeySet | undefined> => {
    if (cached && now() - cached.fetchedAt < cacheMs) return cached;
    if (inflight) return inflight;
    if (lastAttemptFailed && now() - lastAttemptAt < failureBackoffMs) return undefined;
    return refresh();
  };

  return {
    async verify(headers, rawBody) {
      try {
        const read = readHeaders(headers);
        if ('reason' in read) return { ok: false, reason: read.reason };
        const { requestId, userId, timestamp, signature } = read;
        if (!Buffer.isBuffer(rawBody)) return { ok: false, reason: 'no raw body to verify' };

        const skewS = Math.abs(now() / 1000 - Number(timestamp));
        if (skewS > toleranceS) {
          return {
            ok: false,
            reason: `stale timestamp: ${Math.round(skewS)} s from now (tolerance ${toleranceS} s)`,
          };
        }

        const bodyHash = createHash('sha256').update(rawBody).digest('hex');
        const message = Buffer.from(`${requestId}\n${userId}\n${timestamp}\n${bodyHash}`, 'utf8');
        const signatureBytes = Buffer.from(signature, 'hex');

        let keySet = await currentKeys();
        if (!keySet) return { ok: false, reason: FAL_JWKS_UNAVAILABLE };
        if (anyKeyVerifies(keySet.keys, message, signatureBytes)) return { ok: true, requestId, userId };

        // fal may have rotated its keys since we fetched them.
        if (!inflight && now() - lastAttemptAt < refetchIntervalMs) {
          return { ok: false, reason: 'signature does not match any known key' };
        }
        keySet = (await (inflight ?? refresh())) ?? keySet;
        if (anyKeyVerifies(keySet.keys, message, signatureBytes)) return { ok: true, requestId, userId };
        return { ok: false, reason: 'signature does not match any known key' };
      } catch (error) {
        // Nothing above should throw; a verifier that throws would turn bad input into a 500.
        return {
          ok: false,
          reason: `verification failed: ${error instanceof Error ? error.message : 'error'}`,
        };
      }
    },
  };
}

type HeaderRead =
  | { requestId: string; userId: string; timestamp: string; signature: string }
  | { reason: string };

function readHeaders(headers: Record<string, string | string[] | undefined>): HeaderRead {
  const lower = new Map<string, string | string[] | undefined>();
  for (const [name, value] of Object.entries(headers ?? {})) lower.set(name.toLowerCase(), value);
  const values: Record<keyof typeof FAL_WEBHOOK_HEADERS, string> = {
    requestId: '',
    userId: '',
    timestamp: '',
    signature: '',
  };
  for (const [field, name] of Object.entries(FAL_WEBHOOK_HEADERS) as Array<
    [keyof typeof FAL_WEBHOOK_HEADERS, string]
  >) {
    const raw = lower.get(name);
    if (Array.isArray(raw) && raw.length > 1) return { reason: `header ${name} is repeated` };
    const value = Array.isArray(raw) ? raw[0] : raw;
    if (typeof value !== 'string' || value.trim() === '') return { reason: `missing header ${name}` };
    values[field] = value.trim();
  }
  if (!UNIX_SECONDS.test(values.timestamp)) {
    return { reason: `header ${FAL_WEBHOOK_HEADERS.timestamp} is not unix seconds` };
  }
  if (!SIGNATURE_HEX.test(values.signature)) {
    return { reason: `header ${FAL_WEBHOOK_HEADERS.signature} is not 64 hex-encoded bytes` };
  }
  return values;
}

function anyKeyVerifies(keys: KeyObject[], message: Buffer, signature: Buffer): boolean {
  return keys.some((key) => {
    try {
      return verifySignature(null, message, key, signature);
    } catch {
      return false;
    }
  });
}

/** The Ed25519 keys of a JWKS; throws when it cannot be fetched or holds none. */
async function fetchKeys(fetchImpl: typeof fetch, url: string, timeoutMs: number): Promise<KeyObject[]> {
  const response = await fetchImpl(url, {
    headers: { accept: 'application/json' },
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (!response.ok) {
    await response.body?.cancel().catch(() => {});
    throw new Error(`JWKS answered HTTP ${response.status}`);
  }
  const body = (await response.json()) as { keys?: unknown };
  if (!body || !Array.isArray(body.keys)) throw new Error('JWKS has no "keys" array');
  const keys: KeyObject[] = [];
  for (const jwk of body.keys as Array<Record<string, unknown>>) {
    if (jwk?.kty !== 'OKP' || jwk.crv !== 'Ed25519' || typeof jwk.x !== 'string') continue;
    if (jwk.use !== undefined && jwk.use !== 'sig') continue;
    try {
      keys.push(createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: jwk.x }, format: 'jwk' }));
    } catch {
      // A malformed key is skipped; the others may still verify.
    }
  }
  if (keys.length === 0) throw new Error('JWKS holds no usable Ed25519 key');
  return keys;
}
