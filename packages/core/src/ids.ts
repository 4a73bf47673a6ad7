import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';

/**
 * A prefixed random id (`job_…`, `upl_…`): a millisecond time prefix so ids sort by
 * creation, then 80 random bits.
 */
export function newId(prefix: 'job' | 'upl' | 'batch' | 'req', now = Date.now()): string {
  return newIds(prefix, 1, now)[0]!;
}

/** `count` ids as `newId` makes them, from one draw of random bytes (a batch's jobs). */
export function newIds(prefix: 'job' | 'upl' | 'batch' | 'req', count: number, now = Date.now()): string[] {
  const head = `${prefix}_${now.toString(36).padStart(9, '0')}`;
  const bytes = randomBytes(16 * count);
  const ids: string[] = new Array(count);
  for (let n = 0; n < count; n++) {
    let random = '';
    for (let i = 16 * n; i < 16 * (n + 1); i++) random += ALPHABET[bytes[i]! % ALPHABET.length];
    ids[n] = head + random;
  }
  return ids;
}

export const JOB_ID_PATTERN = /^job_[0-9a-z]{25}$/;
