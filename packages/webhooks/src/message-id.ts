import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';

/** Shape of a message id: `msg_`, 9 base-36 time digits, 16 random base-36 digits. */
export const WEBHOOK_MESSAGE_ID_PATTERN = /^msg_[0-9a-z]{25}$/;

/**
 * A `webhook-id` (`msg_…`): a millisecond time prefix so ids sort by creation, then ~80
 * random bits. The same form as `newId` in `@fluxq/core`, which only mints its own
 * prefixes; kept here so this package (and its receivers' tests) need nothing else.
 * Mint it once per event and keep it across retries: receivers deduplicate on it.
 */
export function newWebhookMessageId(now = Date.now()): string {
  const time = now.toString(36).padStart(9, '0');
  const bytes = randomBytes(16);
  let random = '';
  for (let i = 0; i < 16; i++) random += ALPHABET[bytes[i]! % ALPHABET.length];
  return `msg_${time}${random}`;
}
