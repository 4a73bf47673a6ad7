import { isFluxqError, type JobErrorCode } from '@fluxq/core';
import {
  type BreakerEffect,
  classifyProviderFailure,
  type FailureAction,
  retryAfterMsOf,
} from '@fluxq/resilience';

export interface JobFailure {
  code: JobErrorCode;
  message: string;
  action: FailureAction;
  breaker: BreakerEffect;
  /** The server's Retry-After, when it sent one. */
  retryAfterMs: number | undefined;
}

/** An input image URL that could not be fetched (network) — worth another attempt. */
export class InputFetchError extends Error {
  override readonly name = 'InputFetchError';
}

/** An input image URL that answered but can never be used (4xx, too big, wrong scheme). */
export class InputRejectedError extends Error {
  override readonly name = 'InputRejectedError';
}

/** Name and message of a live error or of one that came back from Redis as a plain object. */
function describeError(err: unknown): { name: string | undefined; message: string } {
  if (typeof err === 'object' && err !== null) {
    const { name, message } = err as { name?: unknown; message?: unknown };
    return {
      name: typeof name === 'string' ? name : undefined,
      message: typeof message === 'string' ? message : JSON.stringify(err),
    };
  }
  return { name: undefined, message: String(err) };
}

/**
 * What a failed attempt means for the job. fal's failures follow the taxonomy table in
 * @fluxq/resilience; failures of our own inputs never touch the breaker. Checks names
 * and codes, not classes, since errors may have been serialized.
 */
export function classifyFailure(err: unknown): JobFailure {
  const { name, message } = describeError(err);
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
  if (name === 'BreakerOpenError') return ours('provider_error', 'retry');
  if (name === 'InputFetchError') return ours('input_fetch_failed', 'retry');
  if (name === 'InputRejectedError') return ours('input_fetch_failed', 'fail');
  // A URL input that downloaded but is not a usable image will not get better.
  if (isFluxqError(err)) return ours('input_fetch_failed', 'fail');
  return ours('internal_error', 'retry');
}
