/**
 * Content types come from the key's extension, so no driver needs sidecar metadata.
 */

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
