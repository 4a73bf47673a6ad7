import { describe, expect, it } from 'vitest';
import { JOB_ID_PATTERN, newId, newIds } from '../src/index.js';

describe('ids', () => {
  it('makes a job id with a time prefix that sorts by creation', () => {
    const earlier = newId('job', 1_767_000_000_000);
    const later = newId('job', 1_767_000_000_001);
    expect(earlier).toMatch(JOB_ID_PATTERN);
    expect(earlier < later).toBe(true);
  });

  it('makes many ids of one instant at once, each well-formed and distinct', () => {
    const ids = newIds('job', 10_000, 1_767_000_000_000);
    expect(ids).toHaveLength(10_000);
    expect(new Set(ids).size).toBe(10_000);
    for (const id of ids) expect(id).toMatch(JOB_ID_PATTERN);
    // The same time prefix as one id of that instant; the random part differs.
    const single = newId('job', 1_767_000_000_000);
    expect(new Set(ids.map((id) => id.slice(0, 13)))).toEqual(new Set([single.slice(0, 13)]));
    expect(new Set(ids.map((id) => id.slice(13))).size).toBe(10_000);
  });

  // Single ids take their random part from a pooled buffer, refilled every 256 ids: none may repeat.
  it('gives single ids distinct random parts across many pool refills, in creation order', () => {
    const now = 1_796_000_000_000;
    const ids = Array.from({ length: 10_000 }, (_, i) => newId('job', now + i));
    expect(new Set(ids.map((id) => id.slice(-16))).size).toBe(ids.length);
    expect(ids.every((id) => JOB_ID_PATTERN.test(id))).toBe(true);
    expect([...ids].sort()).toEqual(ids);
    const chars = new Set(ids.map((id) => id.slice(-16)).join(''));
    expect(chars.size).toBe(36);
  });
});
