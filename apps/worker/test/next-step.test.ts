import type { JobRecord } from '@fluxq/core';
import {
  FalAuthError,
  FalContentFilteredError,
  FalRateLimitedError,
  FalTransientError,
  FalTransportError,
  FalValidationError,
} from '@fluxq/fal';
import { AttemptTimeoutError } from '@fluxq/resilience';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BreakerOpenError, InputFetchError, InputRejectedError } from '../src/errors.js';
import { classifyFailure } from '../src/images/job-failure.js';
import { decideNextStep, type NextStep } from '../src/images/next-step.js';
import { startWorkerHarness, type WorkerHarness } from './harness/worker-harness.js';

/**
 * `decideNextStep` on the worker's real breaker and retry budget (in Redis, flushed before
 * each test): what a failed attempt leads to for each class of failure. Not pure (it moves
 * the breaker and spends the budget), so it runs on the harness's dependencies.
 */
const BASE_MS = 1_000;
const CAP_MS = 8_000;
const MAX_ATTEMPTS = 3;
const AUTH_OPEN_MS = 60_000;

describe('deciding the next step after a failed attempt', () => {
  let harness: WorkerHarness;
  /** A job as the API accepted it (nothing runs it: no workers here). */
  let record: JobRecord;
  const decide = (err: unknown, attempt: number, more: { probe?: boolean; deadlineMs?: number } = {}) =>
    decideNextStep(
      {
        record,
        failure: classifyFailure(err),
        attempt,
        probe: more.probe ?? false,
        deadlineMs: more.deadlineMs ?? Date.now() + 3_600_000,
      },
      harness.deps.images,
    );
  const serverError = () => new FalTransientError('fal answered 500', { operation: 'result', status: 500 });

  beforeAll(async () => {
    harness = await startWorkerHarness({
      env: {
        JOB_ATTEMPTS: String(MAX_ATTEMPTS),
        JOB_BACKOFF_MS: String(BASE_MS),
        JOB_BACKOFF_MAX_MS: String(CAP_MS),
        BREAKER_AUTH_OPEN_MS: String(AUTH_OPEN_MS),
        // Three retries per window, never more: the budget test spends them.
        RETRY_BUDGET_MIN: '3',
        RETRY_BUDGET_RATIO: '0',
      },
    });
  });
  afterAll(async () => {
    await harness?.close();
  });
  beforeEach(async () => {
    await harness.deps.redis.flushall();
    record = await harness.submit({ model: 'flux.2-dev-turbo', prompt: 'a red kite' });
  });

  describe('when another attempt cannot help', () => {
    it.each([
      [
        'fal refused the input (422)',
        new FalValidationError('bad', { operation: 'result', status: 422 }),
        'provider_validation_error',
      ],
      [
        'fal’s safety checker blocked the output',
        new FalContentFilteredError('nsfw', { operation: 'result', flaggedIndices: [0] }),
        'content_filtered',
      ],
      ['an input URL answered 4xx', new InputRejectedError('input answered 404'), 'input_fetch_failed'],
    ])('fails the job at once when %s', async (_case, err, code) => {
      expect(await decide(err, 1)).toEqual({ kind: 'fail', code, message: (err as Error).message });
    });

    it('fails the job and opens the breaker for the model when fal refuses our key', async () => {
      const next = await decide(new FalAuthError('no', { operation: 'submit', status: 401 }), 1);
      expect(next).toMatchObject({ kind: 'fail', code: 'provider_auth_error' });
      const breaker = await harness.deps.images.resilience.breaker.state(record.model);
      expect(breaker.state).toBe('open');
    });
  });

  describe('when fal rate-limits us (429)', () => {
    it('slows the queue for the Retry-After it sent, spending no attempt', async () => {
      const err = new FalRateLimitedError('slow down', {
        operation: 'submit',
        status: 429,
        retryAfterMs: 2_500,
      });
      expect(await decide(err, MAX_ATTEMPTS)).toEqual({ kind: 'rate-limit', delayMs: 2_500 });
    });

    it('slows it for a backoff when fal sent no Retry-After', async () => {
      const next = await decide(
        new FalRateLimitedError('slow down', { operation: 'submit', status: 429 }),
        1,
      );
      expect(next.kind).toBe('rate-limit');
      expect(delayOf(next)).toBeGreaterThanOrEqual(0);
      expect(delayOf(next)).toBeLessThanOrEqual(BASE_MS);
    });
  });

  describe('when the failure is transient', () => {
    it.each([
      ['a fal 500', serverError()],
      ['our attempt timeout', new AttemptTimeoutError('did not finish')],
      ['no answer from fal', new FalTransportError('reset', { operation: 'status' })],
    ])('retries %s at once on the first attempt: one runner failed, not fal', async (_case, err) => {
      expect(await decide(err, 1)).toEqual({
        kind: 'retry',
        delayMs: 0,
        countsAttempt: true,
        reason: 'lone failure',
      });
    });

    it('backs off on a first attempt when another job failed right before it: not one runner alone', async () => {
      const own = record;
      record = await harness.submit({ model: 'flux.2-dev-turbo', prompt: 'the other one' });
      expect(await decide(serverError(), 1)).toMatchObject({ reason: 'lone failure' });
      record = own;
      const next = await decide(serverError(), 1);
      expect(next).toMatchObject({ kind: 'retry', countsAttempt: true, reason: 'backoff' });
      expect(delayOf(next)).toBeLessThanOrEqual(BASE_MS);
    });

    it('backs off on a later attempt, within the exponential curve', async () => {
      const next = await decide(serverError(), 2);
      expect(next).toMatchObject({ kind: 'retry', countsAttempt: true, reason: 'backoff' });
      expect(delayOf(next)).toBeLessThanOrEqual(2 * BASE_MS);
    });

    it('waits at least the Retry-After fal sent with a 5xx', async () => {
      const err = new FalTransientError('busy', { operation: 'submit', status: 503, retryAfterMs: 5_000 });
      expect(await decide(err, 1)).toEqual({
        kind: 'retry',
        delayMs: 5_000,
        countsAttempt: true,
        reason: 'backoff',
      });
    });

    it.each([
      ['an input URL that could not be fetched', new InputFetchError('connection refused'), 'backoff'],
      ['a bug of ours', new Error('undefined is not a function'), 'backoff'],
      ['the breaker opened on the way to fal', new BreakerOpenError('breaker open'), 'backoff'],
    ])('retries %s after a backoff (the breaker is not told)', async (_case, err, reason) => {
      const next = await decide(err, 1);
      expect(next).toMatchObject({ kind: 'retry', countsAttempt: true, reason });
      expect(delayOf(next)).toBeLessThanOrEqual(BASE_MS);
      expect((await harness.deps.images.resilience.breaker.state(record.model)).streak).toBe(0);
    });
  });

  describe('when the job’s budget is spent', () => {
    it('fails the job after its last attempt', async () => {
      const next = await decide(serverError(), MAX_ATTEMPTS);
      expect(next).toEqual({
        kind: 'fail',
        code: 'provider_error',
        message: `fal answered 500 (after ${MAX_ATTEMPTS} attempts)`,
      });
    });

    it('fails the job when the retry would come after its deadline', async () => {
      const err = new FalTransientError('busy', { operation: 'submit', status: 503, retryAfterMs: 5_000 });
      const next = await decide(err, 1, { deadlineMs: Date.now() + 1_000 });
      expect(next).toEqual({ kind: 'fail', code: 'provider_error', message: 'busy (job deadline reached)' });
    });

    it('waits the backoff cap once the retry budget is spent', async () => {
      for (let i = 0; i < 3; i++) expect(await decide(serverError(), 2)).toMatchObject({ reason: 'backoff' });
      expect(await decide(serverError(), 2)).toEqual({
        kind: 'retry',
        delayMs: CAP_MS,
        countsAttempt: true,
        reason: 'retry budget spent',
      });
    });
  });

  describe('when fal is failing for everyone (an outage)', () => {
    it('gives the attempt back while the breaker is open, even on the last attempt, and waits for it', async () => {
      await decide(new FalAuthError('no', { operation: 'submit', status: 401 }), 1);
      const next = await decide(serverError(), MAX_ATTEMPTS);
      expect(next).toMatchObject({ kind: 'retry', countsAttempt: false, reason: 'breaker open' });
      // Not before the breaker may let a probe through.
      expect(delayOf(next)).toBeGreaterThan(AUTH_OPEN_MS - 5_000);
    });

    it('gives the attempt back when other jobs failed right before this one', async () => {
      const others = [
        await harness.submit({ model: 'flux.2-dev-turbo', prompt: 'one' }),
        await harness.submit({ model: 'flux.2-dev-turbo', prompt: 'two' }),
      ];
      const own = record;
      for (const other of others) {
        record = other;
        expect(await decide(serverError(), 2)).toMatchObject({ countsAttempt: true });
      }
      record = own;
      expect(await decide(serverError(), MAX_ATTEMPTS)).toMatchObject({
        kind: 'retry',
        countsAttempt: false,
        reason: 'breaker open',
      });
    });

    it('gives the attempt back when the attempt was the breaker’s probe', async () => {
      expect(await decide(serverError(), MAX_ATTEMPTS, { probe: true })).toMatchObject({
        kind: 'retry',
        countsAttempt: false,
      });
    });
  });
});

function delayOf(next: NextStep): number {
  if (next.kind === 'fail') throw new Error(`expected a delay, got ${JSON.stringify(next)}`);
  return next.delayMs;
}
