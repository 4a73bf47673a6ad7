import { FluxqError, type JobErrorCode } from '@fluxq/core';
import {
  FalContentFilteredError,
  type FalOperation,
  FalProtocolError,
  FalTransportError,
  falErrorFromResponse,
} from '@fluxq/fal';
import { AttemptTimeoutError, type BreakerEffect, type FailureAction } from '@fluxq/resilience';
import { describe, expect, it } from 'vitest';
import { BreakerOpenError, InputFetchError, InputRejectedError } from '../src/errors.js';
import { classifyFailure } from '../src/images/job-failure.js';

/** A fal error exactly as the client builds it from an HTTP answer. */
const fromFal = (
  status: number,
  headers: Record<string, string> = {},
  body: unknown = { detail: 'something went wrong' },
  operation: FalOperation = 'result',
) => falErrorFromResponse(status, headers, body, { operation, requestId: 'req-1' });

const contentFiltered = () =>
  new FalContentFilteredError('fal flagged image(s) 0 of 1 as NSFW', {
    operation: 'result',
    requestId: 'req-1',
    flaggedIndices: [0],
  });

type Row = [
  name: string,
  error: unknown,
  expected: { code: JobErrorCode; action: FailureAction; breaker?: BreakerEffect; retryAfterMs?: number },
];

const rows: Row[] = [
  // Another attempt cannot help: the request, the credentials or the output is the problem.
  [
    'fal 422 (validation)',
    fromFal(
      422,
      {},
      { detail: [{ loc: ['body', 'prompt'], msg: 'field required', type: 'missing' }] },
      'submit',
    ),
    { code: 'provider_validation_error', action: 'fail' },
  ],
  [
    'fal 400 (validation)',
    fromFal(400, {}, { detail: 'bad image_size' }, 'submit'),
    { code: 'provider_validation_error', action: 'fail' },
  ],
  [
    'fal 401 (auth)',
    fromFal(401, {}, { detail: 'Unauthorized' }, 'submit'),
    { code: 'provider_auth_error', action: 'fail', breaker: 'open' },
  ],
  [
    'fal 403 (auth)',
    fromFal(403, {}, { detail: 'Forbidden' }, 'submit'),
    { code: 'provider_auth_error', action: 'fail', breaker: 'open' },
  ],
  ['a content-filtered result', contentFiltered(), { code: 'content_filtered', action: 'fail' }],
  // fal trouble that a later attempt may not see.
  [
    'fal 404 (request no longer known)',
    fromFal(404, {}, { detail: 'Request not found' }, 'status'),
    { code: 'provider_error', action: 'resubmit', breaker: 'none' },
  ],
  [
    'fal 429 (rate limited)',
    fromFal(429, { 'retry-after': '3' }),
    { code: 'provider_error', action: 'rate-limit', breaker: 'none', retryAfterMs: 3000 },
  ],
  ['fal 500', fromFal(500), { code: 'provider_error', action: 'retry', breaker: 'count' }],
  ['fal 502', fromFal(502), { code: 'provider_error', action: 'retry', breaker: 'count' }],
  [
    'fal 503',
    fromFal(503, { 'x-fal-error-type': 'runner_scheduling_failure' }),
    { code: 'provider_error', action: 'retry' },
  ],
  [
    'fal 504 (gateway timeout)',
    fromFal(504, {}, 'Gateway Timeout'),
    { code: 'provider_error', action: 'retry' },
  ],
  [
    'a malformed fal answer',
    new FalProtocolError('bad JSON', { operation: 'result' }),
    { code: 'provider_error', action: 'retry' },
  ],
  [
    'a network failure talking to fal',
    new FalTransportError('fal status request failed: ECONNRESET', { operation: 'status' }),
    { code: 'provider_error', action: 'retry' },
  ],
  [
    'our own timeout on a fal call',
    new FalTransportError('fal status timed out after 10000 ms', { operation: 'status', timedOut: true }),
    { code: 'provider_timeout', action: 'retry' },
  ],
  // The worker's own errors.
  [
    'an attempt past its deadline',
    new AttemptTimeoutError('fal request req-1 did not finish'),
    { code: 'provider_timeout', action: 'retry' },
  ],
  [
    'an input URL that could not be fetched',
    new InputFetchError('could not fetch input image: ECONNREFUSED'),
    { code: 'input_fetch_failed', action: 'retry', breaker: 'none' },
  ],
  [
    'an input URL that answered 404',
    new InputRejectedError('input image URL answered HTTP 404'),
    { code: 'input_fetch_failed', action: 'fail' },
  ],
  [
    'a downloaded input that is not a usable image (FluxqError)',
    new FluxqError('unsupported_image_type', 'input image is a TIFF image', { param: 'image' }),
    { code: 'input_fetch_failed', action: 'fail' },
  ],
  [
    'the breaker opened while the attempt waited for a slot',
    new BreakerOpenError('fal is failing for flux.2-dev-turbo; breaker open'),
    { code: 'provider_error', action: 'retry', breaker: 'none' },
  ],
  ['a plain Error (a bug or a Redis hiccup)', new Error('boom'), { code: 'internal_error', action: 'retry' }],
  ['a thrown string', 'boom', { code: 'internal_error', action: 'retry' }],
  // Errors that went through JSON (Redis) arrive as plain objects: classified by code and name.
  [
    'a plain object with the validation name and code',
    { name: 'FalValidationError', code: 'FAL_ERR_VALIDATION', message: 'x' },
    { code: 'provider_validation_error', action: 'fail' },
  ],
  [
    'a plain object with only the content-filtered name',
    { name: 'FalContentFilteredError', message: 'x' },
    { code: 'content_filtered', action: 'fail' },
  ],
  [
    'a plain object with the transient code',
    { name: 'FalTransientError', code: 'FAL_ERR_TRANSIENT', message: 'x' },
    { code: 'provider_error', action: 'retry' },
  ],
];

describe('classifyFailure', () => {
  describe('when an attempt fails', () => {
    it.each(rows)('classifies %s', (_name, error, expected) => {
      expect(classifyFailure(error)).toMatchObject(expected);
    });

    it.each(rows.filter(([, error]) => error instanceof Error))(
      'keeps the message of %s for the job record',
      (_name, error) => {
        expect(classifyFailure(error).message).toBe((error as Error).message);
      },
    );

    it('carries fal’s own words in the message of a fal error', () => {
      const failure = classifyFailure(fromFal(422, {}, { detail: 'prompt is empty' }, 'submit'));
      expect(failure.message).toContain('HTTP 422');
      expect(failure.message).toContain('prompt is empty');
    });
  });

  // fal's client must not retry a user timeout, but our job-level retry does: a later attempt may
  // find a free runner (issue 4: "504 with x-fal-request-timeout-type: user → retry at our layer only").
  describe('when fal gives up on our start timeout (504, x-fal-request-timeout-type: user)', () => {
    it('records it as a provider timeout', () => {
      const error = fromFal(
        504,
        { 'x-fal-request-timeout-type': 'user' },
        { detail: 'Request timed out' },
        'result',
      );
      expect(classifyFailure(error).code).toBe('provider_timeout');
    });

    it('retries it at the job level and counts it against the breaker', () => {
      const error = fromFal(
        504,
        { 'x-fal-request-timeout-type': 'user' },
        { detail: 'Request timed out' },
        'result',
      );
      expect(classifyFailure(error)).toMatchObject({
        code: 'provider_timeout',
        action: 'retry',
        breaker: 'count',
      });
    });
  });

  describe('when the error came back from Redis as a plain object', () => {
    it('keeps its message', () => {
      const failure = classifyFailure({
        name: 'FalValidationError',
        code: 'FAL_ERR_VALIDATION',
        message: 'x',
      });
      expect(failure.message).toBe('x');
    });

    it.each<Row>([
      [
        'a serialized InputRejectedError',
        { ...JSON.parse(JSON.stringify(new InputRejectedError('x'))), message: 'x' },
        { code: 'input_fetch_failed', action: 'fail' },
      ],
      [
        'a serialized AttemptTimeoutError',
        { ...JSON.parse(JSON.stringify(new AttemptTimeoutError('x'))), message: 'x' },
        { code: 'provider_timeout', action: 'retry' },
      ],
    ])('classifies %s by its code', (_name, error, expected) => {
      expect(classifyFailure(error)).toMatchObject(expected);
    });
  });
});
