import { createHmac, randomBytes } from 'node:crypto';

/**
 * Standard Webhooks signing (https://www.standardwebhooks.com, DESIGN §7). A receiver
 * verifies with any Standard Webhooks library (or `@fluxq/sdk`), so everything here
 * follows the spec to the byte: the signed content is `${id}.${timestamp}.${body}`, the
 * key is the base64-decoded part of the `whsec_` secret, the signature is `v1,<base64>`.
 */

/** Message id: the receiver's idempotency key, the same on every retry of one event. */
export const WEBHOOK_ID_HEADER = 'webhook-id';
/** Seconds since the epoch when this attempt was signed; receivers reject it past ±5 min. */
export const WEBHOOK_TIMESTAMP_HEADER = 'webhook-timestamp';
/** One or more space-separated `v1,<base64 HMAC-SHA256>` signatures (several while a secret rotates). */
export const WEBHOOK_SIGNATURE_HEADER = 'webhook-signature';

/** Prefix that marks a Standard Webhooks symmetric secret. */
export const WEBHOOK_SECRET_PREFIX = 'whsec_';

/** Thrown for a secret that is not `whsec_` + base64 of at least one byte. */
export class WebhookSecretError extends Error {
  override readonly name = 'WebhookSecretError';
  readonly code = 'WEBHOOK_ERR_SECRET';
}

/** A type alias, not an interface, so it spreads into and passes as `Record<string, string>`. */
export type SignedHeaders = {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
};

export interface SignedHeadersInput {
  /** The message id (`newWebhookMessageId()`), kept across retries. */
  id: string;
  /** When this attempt is signed. Unit: seconds since the epoch. */
  timestampS: number;
  /** The exact bytes that will be sent, as a string. */
  body: string;
  /**
   * Secrets to sign with, current first. During a rotation pass the new and the old one,
   * so receivers that still hold the old secret keep verifying.
   */
  secrets: readonly string[];
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** A new tenant secret: `whsec_` + base64 of 32 random bytes (the spec asks for 24–64). */
export function generateWebhookSecret(): string {
  return WEBHOOK_SECRET_PREFIX + randomBytes(32).toString('base64');
}

/** The HMAC key inside a secret. The prefix is optional, as in the reference library. */
function secretKey(secret: string): Buffer {
  const encoded = secret.startsWith(WEBHOOK_SECRET_PREFIX)
    ? secret.slice(WEBHOOK_SECRET_PREFIX.length)
    : secret;
  if (!BASE64.test(encoded)) throw new WebhookSecretError('webhook secret must be whsec_ followed by base64');
  return Buffer.from(encoded, 'base64');
}

/** `v1,<base64 HMAC-SHA256 of "id.timestamp.body">` for one secret. */
export function webhookSignature(secret: string, id: string, timestampS: number, body: string): string {
  if (!Number.isSafeInteger(timestampS))
    throw new RangeError(`timestampS must be whole seconds, got ${timestampS}`);
  const digest = createHmac('sha256', secretKey(secret))
    .update(`${id}.${timestampS}.${body}`)
    .digest('base64');
  return `v1,${digest}`;
}

/** The three Standard Webhooks headers, one signature per secret. */
export function signedHeaders({ id, timestampS, body, secrets }: SignedHeadersInput): SignedHeaders {
  if (secrets.length === 0) throw new WebhookSecretError('at least one webhook secret is needed to sign');
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestampS),
    'webhook-signature': secrets.map((s) => webhookSignature(s, id, timestampS, body)).join(' '),
  };
}
