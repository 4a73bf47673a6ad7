import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  createFalQueueClient,
  createNodeHttpFetch,
  FAL_ERROR_CODES,
  FalAuthError,
  type FalError,
  FalNotFoundError,
  FalProtocolError,
  FalRateLimitedError,
  FalTransientError,
  FalTransportError,
  FalUserTimeoutError,
  FalValidationError,
  falErrorCodeOf,
  falErrorFromResponse,
  isFalError,
} from '../src/index.js';
import { type FalServer, type Reply, startFalServer, unusedPort } from './fal-server.js';

const KEY = 'key-id:super-secret-value';
const NOW = Date.parse('2026-01-01T00:00:00Z');

interface Row {
  name: string;
  reply?: Reply;
  refused?: boolean;
  cls: abstract new (...args: never[]) => FalError;
  code: string;
  check?: (err: FalError) => void;
}

const detailArray = [
  { loc: ['body', 'image_urls'], msg: 'field required', type: 'missing' },
  { loc: ['body'], msg: 'image too large', type: 'image_too_large' },
];

const rows: Row[] = [
  {
    name: '422 with a detail array → validation with field errors',
    reply: { status: 422, body: { detail: detailArray } },
    cls: FalValidationError,
    code: FAL_ERROR_CODES.VALIDATION,
    check: (err) => {
      const v = err as FalValidationError;
      expect(v.fieldErrors).toHaveLength(2);
      expect(v.getFieldErrors('image_urls')[0]?.type).toBe('missing');
      expect(v.message).toContain('image_urls: field required; image too large');
    },
  },
  {
    name: '422 with a string detail → validation with one body-level field error',
    reply: { status: 422, body: { detail: 'prompt is empty' } },
    cls: FalValidationError,
    code: FAL_ERROR_CODES.VALIDATION,
    check: (err) => {
      expect((err as FalValidationError).fieldErrors).toEqual([
        { loc: ['body'], msg: 'prompt is empty', type: 'value_error' },
      ]);
      expect(err.message).toContain('prompt is empty');
    },
  },
  {
    name: '400 → validation',
    reply: { status: 400, body: { detail: 'bad' } },
    cls: FalValidationError,
    code: 'FAL_ERR_VALIDATION',
  },
  {
    name: '401 → auth',
    reply: { status: 401, body: { detail: 'No key' } },
    cls: FalAuthError,
    code: 'FAL_ERR_AUTH',
  },
  {
    name: '403 → auth',
    reply: { status: 403, body: { detail: 'Forbidden' } },
    cls: FalAuthError,
    code: 'FAL_ERR_AUTH',
  },
  {
    name: '404 → not found',
    reply: { status: 404, body: { detail: 'gone' } },
    cls: FalNotFoundError,
    code: 'FAL_ERR_NOT_FOUND',
  },
  {
    name: '429 with Retry-After seconds → rate limited with retryAfterMs',
    reply: { status: 429, headers: { 'retry-after': '3' }, body: { detail: 'slow down' } },
    cls: FalRateLimitedError,
    code: 'FAL_ERR_RATE_LIMITED',
    check: (err) => expect(err.retryAfterMs).toBe(3000),
  },
  {
    name: '429 with Retry-After as an HTTP date → retryAfterMs from the date',
    reply: { status: 429, headers: { 'retry-after': new Date(Date.now() + 30_000).toUTCString() } },
    cls: FalRateLimitedError,
    code: 'FAL_ERR_RATE_LIMITED',
    check: (err) => {
      expect(err.retryAfterMs).toBeGreaterThan(25_000);
      expect(err.retryAfterMs).toBeLessThanOrEqual(30_000);
    },
  },
  {
    name: '429 with retry-after-ms → retryAfterMs as given',
    reply: { status: 429, headers: { 'retry-after-ms': '1500' } },
    cls: FalRateLimitedError,
    code: 'FAL_ERR_RATE_LIMITED',
    check: (err) => expect(err.retryAfterMs).toBe(1500),
  },
  {
    name: '500 → transient',
    reply: { status: 500, body: 'Internal Server Error' },
    cls: FalTransientError,
    code: 'FAL_ERR_TRANSIENT',
  },
  {
    name: '502 → transient',
    reply: { status: 502, body: '<html>bad gateway</html>' },
    cls: FalTransientError,
    code: 'FAL_ERR_TRANSIENT',
  },
  {
    name: '503 with x-fal-error-type → transient carrying the error type',
    reply: {
      status: 503,
      headers: { 'x-fal-error-type': 'runner_scheduling_failure', 'x-fal-request-id': 'req-9' },
      body: { detail: 'No runner', error_type: 'runner_scheduling_failure' },
    },
    cls: FalTransientError,
    code: 'FAL_ERR_TRANSIENT',
    check: (err) => {
      expect(err.errorType).toBe('runner_scheduling_failure');
      expect(err.requestId).toBe('req-9');
      expect(err.status).toBe(503);
    },
  },
  {
    name: '504 without timeout type → transient',
    reply: { status: 504, body: { detail: 'Request timed out', error_type: 'request_timeout' } },
    cls: FalTransientError,
    code: 'FAL_ERR_TRANSIENT',
    check: (err) => expect(err.errorType).toBe('request_timeout'),
  },
  {
    name: '504 with x-fal-request-timeout-type: user → user timeout',
    reply: {
      status: 504,
      headers: { 'x-fal-request-timeout-type': 'user' },
      body: { detail: 'Start timeout' },
    },
    cls: FalUserTimeoutError,
    code: 'FAL_ERR_USER_TIMEOUT',
  },
  { name: '408 → transient', reply: { status: 408 }, cls: FalTransientError, code: 'FAL_ERR_TRANSIENT' },
  {
    name: '200 with malformed JSON → protocol',
    reply: { status: 200, headers: { 'content-type': 'application/json' }, body: '{"request_id": ' },
    cls: FalProtocolError,
    code: 'FAL_ERR_PROTOCOL',
  },
  {
    name: '200 without request_id → protocol',
    reply: { status: 200, body: { status: 'IN_QUEUE' } },
    cls: FalProtocolError,
    code: 'FAL_ERR_PROTOCOL',
  },
  {
    name: 'connection refused → transport, cause kept',
    refused: true,
    cls: FalTransportError,
    code: 'FAL_ERR_TRANSPORT',
    check: (err) => {
      expect(err.cause).toBeDefined();
      expect(err.message).toContain('ECONNREFUSED');
    },
  },
  {
    name: 'no answer within the timeout → transport with FAL_ERR_TIMEOUT',
    reply: { status: 200, hang: true },
    cls: FalTransportError,
    code: 'FAL_ERR_TIMEOUT',
    check: (err) => expect(err.message).toContain('timed out after 200 ms'),
  },
];

// The worker sends queue calls through createNodeHttpFetch: each answer must classify as with fetch.
const leanFetch = createNodeHttpFetch();
afterAll(() => leanFetch.close());

describe.each([
  { transport: 'fetch', queueFetch: undefined },
  { transport: 'node:http (createNodeHttpFetch)', queueFetch: leanFetch },
])('error classification (submit against a scripted fal, $transport)', ({ queueFetch }) => {
  let server: FalServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it.each(rows)('$name', async ({ reply, refused, cls, code, check }) => {
    let baseUrl: string;
    if (refused) baseUrl = `http://127.0.0.1:${await unusedPort()}`;
    else {
      server = await startFalServer(() => reply!);
      baseUrl = server.url;
    }
    const client = createFalQueueClient({
      baseUrl,
      key: KEY,
      timeouts: { submitMs: 200 },
      ...(queueFetch ? { queueFetch } : {}),
    });
    const err = await client.submit('fal-ai/flux-2/turbo', { prompt: 'x' }).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(cls);
    expect(isFalError(err)).toBe(true);
    const falErr = err as FalError;
    expect(falErr.code).toBe(code);
    expect(falErr.operation).toBe('submit');
    // Survives serialization (Redis) and never carries the key.
    const plain = JSON.parse(JSON.stringify(falErr)) as unknown;
    expect(falErrorCodeOf(plain)).toBe(code);
    expect(`${falErr.message} ${JSON.stringify(falErr)}`).not.toContain('super-secret');
    check?.(falErr);
  });
});

describe('falErrorFromResponse', () => {
  it('accepts plain header records and an injected clock for HTTP dates', () => {
    const err = falErrorFromResponse(
      429,
      { 'Retry-After': new Date(NOW + 7_000).toUTCString() },
      { detail: 'x' },
      { operation: 'status', requestId: 'r1', now: () => NOW },
    );
    expect(err).toBeInstanceOf(FalRateLimitedError);
    expect(err.retryAfterMs).toBe(7_000);
    expect(err.requestId).toBe('r1');
  });

  it('reads x-fal-retryable', () => {
    const err = falErrorFromResponse(503, { 'x-fal-retryable': 'false' }, {}, { operation: 'status' });
    expect(err.retryable).toBe(false);
  });
});

describe('falErrorCodeOf', () => {
  it.each([
    [{ code: 'FAL_ERR_TIMEOUT', name: 'FalTransportError' }, 'FAL_ERR_TIMEOUT'],
    [{ name: 'FalTransportError' }, 'FAL_ERR_TRANSPORT'],
    [{ name: 'FalUserTimeoutError', message: 'x' }, 'FAL_ERR_USER_TIMEOUT'],
    [{ code: 'ECONNRESET', name: 'FalRateLimitedError' }, 'FAL_ERR_RATE_LIMITED'],
    [{ code: 'ECONNRESET' }, undefined],
    [new Error('plain'), undefined],
    ['FAL_ERR_AUTH', undefined],
    [null, undefined],
  ])('maps %j to %s', (input, expected) => {
    expect(falErrorCodeOf(input)).toBe(expected);
  });
});
