import { isFluxqError, type JobErrorCode } from '@fluxq/core';
import {
  type BreakerEffect,
  classifyProviderFailure,
  type FailureAction,
  retryAfterMsOf,
} from '@fluxq/resilience';
import { WORKER_ERROR_CODES, workerErrorCodeOf } from '../errors.js';

export interface JobFailure {
  code: JobErrorCode;
  message: string;
  action: FailureAction;
  breaker: BreakerEffect;
  /** The server's Retry-After, when it sent one. */
  retryAfterMs: number | undefined;
}

/** The message of a live error or of one that came back from Redis as a plain object. */
function messageOf(err: unknown): string {
  if (typeof err === 'object' && err !== null) {
    const { message } = err as { message?: unknown };
    return typeof message === 'string' ? message : JSON.stringify(err);
  }
  return String(err);
}

/**
 * What a failed attempt means for the job. fal's failures follow the taxonomy table in
 * @fluxq/resilience; failures of our own inputs never touch the breaker. Checks codes
 * (errors.ts, fal's and the resilience layer's), not classes, since errors may have been serialized.
 */
export function classifyFailure(err: unknown): JobFailure {
  const message = messageOf(err);
  const retryAfterMs = retryAfterMsOf(err);
  const provider = classifyProviderFailure(err);
  if (provider) {
    return { code: provider.code, message, action: provider.action, breaker: provider.breaker, retryAfterMs };
  }
  const ours = (code: JobErrorCode, action: FailureAction): JobFailure => ({
    code,
    message,
    action,
    breaker: 'none',
    retryAfterMs,
  });
  // Retried once the breaker lets work through again; never counted as an attempt.
  const code = workerErrorCodeOf(err);
  if (code === WORKER_ERROR_CODES.BREAKER_OPEN) return ours('provider_error', 'retry');
  if (code === WORKER_ERROR_CODES.INPUT_FETCH) return ours('input_fetch_failed', 'retry');
  if (code === WORKER_ERROR_CODES.INPUT_REJECTED) return ours('input_fetch_failed', 'fail');
  // A URL input that downloaded but is not a usable image will not get better.
  if (isFluxqError(err)) return ours('input_fetch_failed', 'fail');
  return ours('internal_error', 'retry');
}
