import { createHmac, timingSafeEqual } from 'node:crypto';
import type { WebhookEvent } from './webhook-event.js';
import { WebhookVerificationError } from './webhook-verification-error.js';

/**
 * Verifies a fluxq webhook the Standard Webhooks way (https://www.standardwebhooks.com):
 * HMAC-SHA256 over `${webhook-id}.${webhook-timestamp}.${raw body}` with the base64 key
 * inside your `whsec_` secret, compared in constant time against each `v1,` signature
 * in `webhook-signature` (there are two while fluxq rotates your secret), and a
 * timestamp within ±5 minutes so a captured request cannot be replayed later. Only
 * `node:crypto`: a receiver should not install a server stack to check a signature.
 *
 * Pass the body exactly as received (a string or the raw bytes, e.g. `express.raw()`);
 * JSON that was parsed and re-serialised will not match.
 */

/** `Headers` (fetch, Hono, Next.js) or Node's `req.headers`; names are matched case-insensitively. */
export type WebhookHeaders = Headers | Record<string, string | string[] | undefined>;

export interface VerifyWebhookOptions {
  /** How far `webhook-timestamp` may be from now, either way. Unit: seconds. @defaultValue 300 */
  toleranceS?: number;
  /** The current time. Unit: milliseconds since the epoch. @defaultValue Date.now */
  now?: () => number;
}

/** Default replay window (the Standard Webhooks recommendation). Unit: seconds. */
export const DEFAULT_WEBHOOK_TOLERANCE_S = 300;

const SECRET_PREFIX = 'whsec_';
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

function isHeaders(headers: WebhookHeaders): headers is Headers {
  return typeof Headers !== 'undefined' && headers instanceof Headers;
}

/** One header's value; repeated signature headers are joined (each holds a list). */
function readHeader(headers: WebhookHeaders, name: string): string | undefined {
  if (isHeaders(headers)) return headers.get(name) ?? undefined;
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== name || value === undefined) continue;
    return Array.isArray(value) ? value.join(' ') : value;
  }
  return undefined;
}

function requireHeader(headers: WebhookHeaders, name: string): string {
  const value = readHeader(headers, name)?.trim();
  if (!value) throw new WebhookVerificationError('missing_header', `missing ${name} header`);
  return value;
}

function secretKey(secret: string): Buffer {
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  // A wrong secret is a configuration error, not a bad request: make it loud.
  if (!BASE64.test(encoded)) throw new TypeError('the webhook secret must be whsec_ followed by base64');
  return Buffer.from(encoded, 'base64');
}

function checkTimestamp(value: string, toleranceS: number, nowMs: number): void {
  if (!/^\d{1,15}$/.test(value)) {
    throw new WebhookVerificationError(
      'invalid_timestamp',
      `webhook-timestamp is not whole seconds: ${value}`,
    );
  }
  const ageS = Math.floor(nowMs / 1000) - Number(value);
  if (ageS > toleranceS) {
    throw new WebhookVerificationError(
      'timestamp_too_old',
      `webhook-timestamp is ${ageS} s old, more than the ${toleranceS} s tolerance (replayed, or the clocks differ)`,
    );
  }
  if (-ageS > toleranceS) {
    throw new WebhookVerificationError(
      'timestamp_too_new',
      `webhook-timestamp is ${-ageS} s in the future, more than the ${toleranceS} s tolerance (check the clocks)`,
    );
  }
}

/** Whether any `v1,` entry of the header equals `expected`, compared in constant time. */
function hasMatchingSignature(header: string, expected: string): boolean {
  const want = Buffer.from(expected);
  let matched = false;
  for (const entry of header.split(' ')) {
    const comma = entry.indexOf(',');
    if (comma === -1 || entry.slice(0, comma) !== 'v1') continue;
    const got = Buffer.from(entry.slice(comma + 1));
    // No early exit: the time taken does not reveal which entry matched.
    if (got.length === want.length && timingSafeEqual(got, want)) matched = true;
  }
  return matched;
}

function parseEvent(body: string): WebhookEvent {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new WebhookVerificationError('invalid_body', 'the signed body is not JSON');
  }
  const event = parsed as Partial<WebhookEvent> | null;
  if (typeof event !== 'object' || event === null || typeof event.type !== 'string') {
    throw new WebhookVerificationError(
      'invalid_body',
      'the signed body is not a {type, timestamp, data} event',
    );
  }
  return { type: event.type, timestamp: String(event.timestamp ?? ''), data: event.data };
}

/**
 * Returns the verified event, or throws {@link WebhookVerificationError} saying what
 * was wrong (a missing header, a stale or future timestamp, no matching signature).
 */
export function verifyWebhook(
  headers: WebhookHeaders,
  rawBody: string | Uint8Array,
  secret: string,
  options: VerifyWebhookOptions = {},
): WebhookEvent {
  const { toleranceS = DEFAULT_WEBHOOK_TOLERANCE_S, now = Date.now } = options;
  const key = secretKey(secret);
  const id = requireHeader(headers, 'webhook-id');
  const timestamp = requireHeader(headers, 'webhook-timestamp');
  const signatures = requireHeader(headers, 'webhook-signature');
  checkTimestamp(timestamp, toleranceS, now());

  const body = typeof rawBody === 'string' ? Buffer.from(rawBody) : Buffer.from(rawBody);
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest('base64');
  if (!hasMatchingSignature(signatures, expected)) {
    throw new WebhookVerificationError(
      'no_matching_signature',
      'no webhook-signature matches this body and secret (wrong secret, or the body was changed or re-serialised)',
    );
  }
  return parseEvent(body.toString('utf8'));
}
