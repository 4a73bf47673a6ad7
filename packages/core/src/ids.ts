import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';

/**
 * A prefixed random id (`job_…`, `upl_…`): a millisecond time prefix so ids sort by
 * creation, then 80 random bits.
 */
export function newId(prefix: 'job' | 'upl' | 'batch' | 'req', now = Date.now()): string {
  const time = now.toString(36).padStart(9, '0');
  const bytes = randomBytes(16);
  let random = '';
  for (let i = 0; i < 16; i++) random += ALPHABET[bytes[i]! % ALPHABET.length];
  return `${prefix}_${time}${random}`;
}

export const JOB_ID_PATTERN = /^job_[0-9a-z]{25}$/;
