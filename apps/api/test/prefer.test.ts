import { describe, expect, it } from 'vitest';
import { parsePrefer, preferenceApplied, waitSeconds } from '../src/http/prefer.js';

describe('Prefer header (RFC 7240)', () => {
  it.each([
    [undefined, { respondAsync: false, waitS: undefined }],
    ['', { respondAsync: false, waitS: undefined }],
    ['respond-async', { respondAsync: true, waitS: undefined }],
    ['Respond-Async', { respondAsync: true, waitS: undefined }],
    ['wait=10', { respondAsync: false, waitS: 10 }],
    ['wait="7"', { respondAsync: false, waitS: 7 }],
    ['respond-async, wait=5', { respondAsync: true, waitS: 5 }],
    ['handling=lenient; foo=bar, wait = 3', { respondAsync: false, waitS: 3 }],
    // the first occurrence counts
    ['wait=4, wait=99', { respondAsync: false, waitS: 4 }],
    // malformed values are ignored, not errors
    ['wait=-1', { respondAsync: false, waitS: undefined }],
    ['wait=abc', { respondAsync: false, waitS: undefined }],
    ['wait=1.5', { respondAsync: false, waitS: undefined }],
    ['wait', { respondAsync: false, waitS: undefined }],
    [['respond-async', 'wait=2'], { respondAsync: true, waitS: 2 }],
  ] as const)('parses %j', (header, expected) => {
    expect(parsePrefer(header as string | string[] | undefined)).toEqual(expected);
  });

  it('waits for the maximum by default, not at all with respond-async, and caps wait=N', () => {
    expect(waitSeconds(parsePrefer(undefined), 300)).toBe(300);
    expect(waitSeconds(parsePrefer('respond-async'), 300)).toBe(0);
    expect(waitSeconds(parsePrefer('respond-async, wait=12'), 300)).toBe(12);
    expect(waitSeconds(parsePrefer('wait=0'), 300)).toBe(0);
    expect(waitSeconds(parsePrefer('wait=9999999999'), 300)).toBe(300);
  });

  it('reports what it applied', () => {
    expect(preferenceApplied(parsePrefer(undefined), 300)).toBeUndefined();
    expect(preferenceApplied(parsePrefer('respond-async'), 0)).toBe('respond-async');
    expect(preferenceApplied(parsePrefer('wait=900'), 300)).toBe('wait=300');
  });
});
