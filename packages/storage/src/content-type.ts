/**
 * Content types come from the key's extension, so no driver needs sidecar metadata.
 */

import { STORAGE_ERROR_CODES, StorageError } from './errors.js';

const BY_EXTENSION: Readonly<Record<string, string>> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  gif: 'image/gif',
  avif: 'image/avif',
  json: 'application/json',
  jsonl: 'application/jsonl',
};

export const DEFAULT_CONTENT_TYPE = 'application/octet-stream';

export function contentTypeForKey(key: string): string {
  const name = key.slice(key.lastIndexOf('/') + 1);
  const dot = name.lastIndexOf('.');
  if (dot <= 0) return DEFAULT_CONTENT_TYPE;
  return BY_EXTENSION[name.slice(dot + 1).toLowerCase()] ?? DEFAULT_CONTENT_TYPE;
}

/** Compares media types, ignoring case and parameters (`image/png; q=1`). */
export function sameMediaType(a: string, b: string): boolean {
  const base = (t: string) => t.split(';')[0]!.trim().toLowerCase();
  return base(a) === base(b);
}

/**
 * The type a blob under `key` is stored and served with. A caller's `contentType` that
 * contradicts the key's extension is refused (STORAGE_ERR_WRITE): the blob would later be
 * served with the wrong type.
 */
export function blobContentType(key: string, contentType: string | undefined): string {
  const expected = contentTypeForKey(key);
  if (contentType !== undefined && !sameMediaType(contentType, expected)) {
    throw new StorageError(
      STORAGE_ERROR_CODES.WRITE,
      `Content type "${contentType}" does not match the key's extension (${expected})`,
      { key },
    );
  }
  return expected;
}
