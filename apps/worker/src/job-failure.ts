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

/**
 * What a failed attempt means for the job: the error code clients see and whether
 * BullMQ should try again. Checks names and codes, not classes, since errors may
 * have been serialized.
 */
export function classifyFailure(err: unknown): JobFailure {
  const message = err instanceof Error ? err.message : String(err);
  switch (falErrorCodeOf(err)) {
    case FAL_ERROR_CODES.VALIDATION:
      return { code: 'provider_validation_error', message, retryable: false };
    case FAL_ERROR_CODES.AUTH:
      return { code: 'provider_auth_error', message, retryable: false };
    case FAL_ERROR_CODES.CONTENT_FILTERED:
      return { code: 'content_filtered', message, retryable: false };
    case FAL_ERROR_CODES.USER_TIMEOUT:
    case FAL_ERROR_CODES.TIMEOUT:
      return { code: 'provider_timeout', message, retryable: true };
    case undefined:
      break;
    default:
      return { code: 'provider_error', message, retryable: true };
  }
  if (err instanceof AttemptTimeoutError) return { code: 'provider_timeout', message, retryable: true };
  if (err instanceof InputFetchError) return { code: 'input_fetch_failed', message, retryable: true };
  if (err instanceof InputRejectedError) return { code: 'input_fetch_failed', message, retryable: false };
  // A URL input that downloaded but is not a usable image will not get better.
  if (isFluxqError(err)) return { code: 'input_fetch_failed', message, retryable: false };
  return { code: 'internal_error', message, retryable: true };
}
