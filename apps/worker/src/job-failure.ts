import { isFluxqError, type JobErrorCode } from '@fluxq/core';
import { FAL_ERROR_CODES, falErrorCodeOf } from '@fluxq/fal';

export interface JobFailure {
  code: JobErrorCode;
  message: string;
  /** False when another attempt cannot help (bad input, bad credentials, filtered content). */
  retryable: boolean;
}

/** An attempt that fal did not finish within the attempt timeout. */
export class AttemptTimeoutError extends Error {
  override readonly name = 'AttemptTimeoutError';
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
 * What a failed attempt means for the job: the error code clients see and whether
 * BullMQ should try again. Checks names and codes, not classes, since errors may
 * have been serialized.
 */
export function classifyFailure(err: unknown): JobFailure {
  const { name, message } = describeError(err);
  switch (falErrorCodeOf(err)) {
    case FAL_ERROR_CODES.VALIDATION:
      return { code: 'provider_validation_error', message, retryable: false };
    case FAL_ERROR_CODES.AUTH:
      return { code: 'provider_auth_error', message, retryable: false };
    case FAL_ERROR_CODES.CONTENT_FILTERED:
      return { code: 'content_filtered', message, retryable: false };
    // fal gave up waiting for a runner (our X-Fal-Request-Timeout). fal must not retry it
    // itself, but a later attempt at our layer may find a free runner (issue 4's taxonomy).
    case FAL_ERROR_CODES.USER_TIMEOUT:
    case FAL_ERROR_CODES.TIMEOUT:
      return { code: 'provider_timeout', message, retryable: true };
    case undefined:
      break;
    default:
      return { code: 'provider_error', message, retryable: true };
  }
  if (name === 'AttemptTimeoutError') return { code: 'provider_timeout', message, retryable: true };
  if (name === 'InputFetchError') return { code: 'input_fetch_failed', message, retryable: true };
  if (name === 'InputRejectedError') return { code: 'input_fetch_failed', message, retryable: false };
  // A URL input that downloaded but is not a usable image will not get better.
  if (isFluxqError(err)) return { code: 'input_fetch_failed', message, retryable: false };
  return { code: 'internal_error', message, retryable: true };
}
