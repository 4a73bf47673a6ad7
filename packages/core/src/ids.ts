import { randomBytes, randomFillSync } from 'node:crypto';

const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';
const RANDOM_CHARS = 16;

/**
 * Random bytes for single ids, drawn from the CSPRNG 256 ids at a time (as `crypto.randomUUID`
 * caches its entropy): one `randomFillSync` per id cost a submit more than its id was worth.
 */
const pool = Buffer.alloc(RANDOM_CHARS * 256);
let poolOffset = pool.length;

/** The 16 random characters of an id, from `bytes` at `offset`. */
function randomPart(bytes: Uint8Array, offset: number): string {
  let random = '';
  for (let i = offset; i < offset + RANDOM_CHARS; i++) random += ALPHABET[bytes[i]! % ALPHABET.length];
  return random;
}

const headOf = (prefix: string, now: number) => `${prefix}_${now.toString(36).padStart(9, '0')}`;

/**
 * A prefixed random id (`job_…`, `upl_…`): a millisecond time prefix so ids sort by
 * creation, then 80 random bits.
 */
export function newId(prefix: 'job' | 'upl' | 'batch' | 'req', now = Date.now()): string {
  if (poolOffset + RANDOM_CHARS > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const id = headOf(prefix, now) + randomPart(pool, poolOffset);
  poolOffset += RANDOM_CHARS;
  return id;
}

/** `count` ids as `newId` makes them, from one draw of random bytes (a batch's jobs). */
export function newIds(prefix: 'job' | 'upl' | 'batch' | 'req', count: number, now = Date.now()): string[] {
  const head = headOf(prefix, now);
  const bytes = randomBytes(RANDOM_CHARS * count);
  const ids: string[] = new Array(count);
  for (let n = 0; n < count; n++) ids[n] = head + randomPart(bytes, RANDOM_CHARS * n);
  return ids;
}

export const JOB_ID_PATTERN = /^job_[0-9a-z]{25}$/;
