/**
 * Read retries: pure decision functions plus one loop. Only idempotent reads use this;
 * submit and upload initiation are paid/creating POSTs and are never retried here.
 */

import { sleep } from '@fluxq/runtime';
import { FAL_ERROR_CODES } from './error-codes.js';
import { isFalError } from './errors.js';

export interface BackoffOptions {
  /** First step, in milliseconds. */
  baseDelayMs: number;
  /** Largest step, in milliseconds. */
  maxDelayMs: number;
}

export interface ReadRetryOptions extends BackoffOptions {
  /** Retries after the first attempt. */
  retries: number;
  /** Longest server `Retry-After` we wait out in process, in milliseconds. */
  retryAfterCapMs: number;
}

const RETRYABLE_STATUSES = new Set([429, 502, 503, 504]);

/** Whether a failed read may be tried again. Aborts are not FalErrors, so never retried. */
export function isRetryableRead(err: unknown): boolean {
  if (!isFalError(err) || err.retryable === false) return false;
  if (err.code === FAL_ERROR_CODES.TRANSPORT || err.code === FAL_ERROR_CODES.TIMEOUT) return true;
  if (err.code === FAL_ERROR_CODES.USER_TIMEOUT || err.status === undefined) return false;
  // A result answers with the request's own outcome (fal relays the model's status), so an
  // error status there is how the request ended: reading it again cannot change it, only
  // delay the job-level decision. Status polls and CDN downloads retry gateway statuses.
  if (err.operation === 'result') return false;
  // fal-js also retries 500 on status polls: a poll has no side effect and 500s there are gateway hiccups.
  return RETRYABLE_STATUSES.has(err.status) || (err.operation === 'status' && err.status === 500);
}

/**
 * The step between two in-process read retries: capped exponential with full jitter, uniform
 * in [0, min(max, base·2^attempt)]. The client's own brief wait (as fal-js has one); the
 * job-level backoff between attempts is the resilience layer's (its backoff.ts).
 */
export function readRetryStepMs(
  attempt: number,
  opts: BackoffOptions,
  random: () => number = Math.random,
): number {
  // The exponent is capped so 2^n stays finite (0 · ∞ would be NaN).
  const ceiling = Math.min(opts.maxDelayMs, opts.baseDelayMs * 2 ** Math.min(attempt, 1_000));
  return Math.floor(random() * ceiling);
}

/** Delay before retry number `attempt + 1`, or undefined when we should give up. */
export function retryDelayFor(
  err: unknown,
  attempt: number,
  opts: ReadRetryOptions,
  random: () => number = Math.random,
): number | undefined {
  if (attempt >= opts.retries || !isRetryableRead(err)) return undefined;
  const hint = isFalError(err) ? err.retryAfterMs : undefined;
  if (hint === undefined) return readRetryStepMs(attempt, opts, random);
  // A long hint is the server asking for a real pause; leave it to the job-level backoff.
  return hint <= opts.retryAfterCapMs ? hint : undefined;
}

export async function withReadRetries<T>(
  run: () => Promise<T>,
  opts: ReadRetryOptions,
  signal?: AbortSignal,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await run();
    } catch (err) {
      const delay = retryDelayFor(err, attempt, opts);
      if (delay === undefined) throw err;
      await sleep(delay, signal);
    }
  }
}
