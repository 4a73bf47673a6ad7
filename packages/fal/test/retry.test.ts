import { describe, expect, it } from 'vitest';
import { FalTransportError, falErrorFromResponse, isRetryableRead, readRetryStepMs } from '../src/index.js';

const backoff = { baseDelayMs: 100, maxDelayMs: 1_000 };

describe('readRetryStepMs', () => {
  it.each([
    [0, 100],
    [1, 200],
    [3, 800],
    [4, 1_000],
    [10, 1_000],
  ])('caps attempt %i at %i ms', (attempt, ceiling) => {
    expect(readRetryStepMs(attempt, backoff, () => 0.999_999)).toBe(ceiling - 1);
    expect(readRetryStepMs(attempt, backoff, () => 0)).toBe(0);
  });
});

describe('isRetryableRead', () => {
  const http = (
    status: number,
    headers: Record<string, string> = {},
    operation: 'status' | 'result' = 'status',
  ) => falErrorFromResponse(status, headers, {}, { operation });

  it.each([
    ['429', http(429), true],
    ['502', http(502), true],
    ['503', http(503), true],
    ['504', http(504), true],
    ['500 on a status poll', http(500), true],
    // A result's error status is how the request ended at fal: reading again cannot help.
    ['500 on a result', http(500, {}, 'result'), false],
    ['503 on a result', http(503, {}, 'result'), false],
    ['429 on a result', http(429, {}, 'result'), false],
    ['504 user timeout', http(504, { 'x-fal-request-timeout-type': 'user' }), false],
    ['503 marked x-fal-retryable: false', http(503, { 'x-fal-retryable': 'false' }), false],
    ['422', http(422), false],
    ['404', http(404), false],
    ['transport failure', new FalTransportError('x', { operation: 'status' }), true],
    ['our timeout', new FalTransportError('x', { operation: 'status', timedOut: true }), true],
    ['an AbortError', new DOMException('aborted', 'AbortError'), false],
    ['a plain Error', new Error('x'), false],
  ])('%s → %s', (_label, err, expected) => {
    expect(isRetryableRead(err)).toBe(expected);
  });
});
