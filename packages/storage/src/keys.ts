/**
 * Storage keys: `/`-separated relative paths. `assertValidKey` is the single gate every
 * driver and the URL signer go through.
 *
 * Segments use an allow-list rather than a deny-list: with only [A-Za-z0-9._-] there is
 * nothing to decode (`%2e%2e` is refused for its `%`), no backslash or NUL, and no
 * drive letters. A segment may not start with `.`, which rules out `.`/`..` and keeps
 * keys from naming the drivers' hidden temp files.
 */

import { StorageKeyError } from './errors.js';

const SEGMENT = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;
const MAX_KEY_LENGTH = 1024;
const MAX_SEGMENT_LENGTH = 255;
const ID = /^[A-Za-z0-9_-]{1,64}$/;
const EXT = /^[a-z0-9]{1,10}$/;

export function assertValidKey(key: unknown): asserts key is string {
  if (typeof key !== 'string' || key.length === 0)
    throw new StorageKeyError('Storage key must be a non-empty string');
  // Show a bounded, escaped form: the key may be attacker-supplied.
  const shown = JSON.stringify(key.slice(0, 100));
  if (key.length > MAX_KEY_LENGTH)
    throw new StorageKeyError(`Storage key is longer than ${MAX_KEY_LENGTH}`, key);
  for (const segment of key.split('/')) {
    if (segment.length === 0) throw new StorageKeyError(`Storage key ${shown} has an empty segment`, key);
    if (segment.length > MAX_SEGMENT_LENGTH || !SEGMENT.test(segment)) {
      throw new StorageKeyError(`Storage key ${shown} has an invalid segment`, key);
    }
  }
}

/** Tenant and ids: `[A-Za-z0-9_-]{1,64}`. */
export function assertValidId(value: unknown, what: string): asserts value is string {
  if (typeof value !== 'string' || !ID.test(value)) {
    throw new StorageKeyError(`${what} must match [A-Za-z0-9_-]{1,64}`);
  }
}

function assertIndex(index: number): void {
  if (!Number.isSafeInteger(index) || index < 0)
    throw new StorageKeyError('index must be a non-negative integer');
}

function normalizeExt(ext: string): string {
  const e = ext.replace(/^\./, '').toLowerCase();
  if (!EXT.test(e)) throw new StorageKeyError('extension must match [a-z0-9]{1,10}');
  return e;
}

/** `outputs/{tenant}/{jobId}/{index}.{ext}`: images we downloaded from fal. */
export function outputKey(tenant: string, jobId: string, index: number, ext: string): string {
  assertValidId(tenant, 'tenant');
  assertValidId(jobId, 'jobId');
  assertIndex(index);
  return `outputs/${tenant}/${jobId}/${index}.${normalizeExt(ext)}`;
}

/** `inputs/{tenant}/{jobId}/{index}.{ext}`: input images kept for a job. */
export function inputKey(tenant: string, jobId: string, index: number, ext: string): string {
  assertValidId(tenant, 'tenant');
  assertValidId(jobId, 'jobId');
  assertIndex(index);
  return `inputs/${tenant}/${jobId}/${index}.${normalizeExt(ext)}`;
}

/** `uploads/{tenant}/{uploadId}.{ext}`: files clients uploaded before creating a job. */
export function uploadKey(tenant: string, uploadId: string, ext: string): string {
  assertValidId(tenant, 'tenant');
  assertValidId(uploadId, 'uploadId');
  return `uploads/${tenant}/${uploadId}.${normalizeExt(ext)}`;
}
