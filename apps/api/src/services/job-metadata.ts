import { FluxqError } from '@fluxq/core';

export const MAX_METADATA_PAIRS = 16;
const MAX_METADATA_KEY = 64;
const MAX_METADATA_VALUE = 512;

/** `metadata`: at most 16 string pairs, as OpenAI and Stripe allow. */
export function parseMetadata(value: unknown): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new FluxqError('invalid_parameter', 'metadata must be an object of string pairs', {
      param: 'metadata',
    });
  }
  const entries = Object.entries(value);
  if (entries.length > MAX_METADATA_PAIRS) {
    throw new FluxqError('invalid_parameter', `metadata holds at most ${MAX_METADATA_PAIRS} pairs`, {
      param: 'metadata',
    });
  }
  for (const [key, item] of entries) {
    if (
      key.length === 0 ||
      key.length > MAX_METADATA_KEY ||
      typeof item !== 'string' ||
      item.length > MAX_METADATA_VALUE
    ) {
      throw new FluxqError(
        'invalid_parameter',
        `metadata keys must be 1..${MAX_METADATA_KEY} characters and values strings up to ${MAX_METADATA_VALUE}`,
        { param: 'metadata' },
      );
    }
  }
  return Object.fromEntries(entries) as Record<string, string>;
}
