import type { JobErrorCode } from '@fluxq/core';
import { FAL_ERROR_CODES, type FalErrorCode, falErrorCodeOf } from '@fluxq/fal';

/**
 * What one failed fal call means for the job (DESIGN §6, issue 4):
 * - `fail`: another attempt cannot help; the job fails now with `code`.
 * - `resubmit`: fal lost the request (404 on status/result); submit it again in the same attempt.
 * - `rate-limit`: slow the whole queue and put the job back without spending an attempt.
 * - `retry`: spend an attempt and try again after backoff.
 */
export type FailureAction = 'fail' | 'resubmit' | 'rate-limit' | 'retry';

/**
 * How a failure moves the model's circuit breaker: `count` adds it to the failure window,
 * `open` opens the breaker at once (configuration problems), `none` leaves it alone
 * (the request was at fault, not fal).
 */
export type BreakerEffect = 'count' | 'open' | 'none';

export interface FailureRule {
  action: FailureAction;
  /** The code a job that ends here carries. */
  code: JobErrorCode;
  breaker: BreakerEffect;
  /** Why, for the row-by-row docs and logs. */
  reason: string;
}

/** Stable code of the resilience layer's own attempt timeout (classified by code, as fal's errors are). */
export const ATTEMPT_TIMEOUT_CODE = 'FLUXQ_ERR_ATTEMPT_TIMEOUT';

/** A fluxq attempt that fal did not finish within the timeout derived from the latency distribution. */
export class AttemptTimeoutError extends Error {
  override readonly name = 'AttemptTimeoutError';
  readonly code = ATTEMPT_TIMEOUT_CODE;
}

/** Key of the taxonomy row for our own attempt timeout (not a fal error code). */
export const ATTEMPT_TIMEOUT = 'ATTEMPT_TIMEOUT';

export type FailureKind = FalErrorCode | typeof ATTEMPT_TIMEOUT;

/** The whole taxonomy, one row per kind of failure. Tested row by row. */
export const FAILURE_TAXONOMY: Readonly<Record<FailureKind, FailureRule>> = {
  [FAL_ERROR_CODES.VALIDATION]: {
    action: 'fail',
    code: 'provider_validation_error',
    breaker: 'none',
    reason: 'fal 400/422: the input is invalid and will be rejected again',
  },
  [FAL_ERROR_CODES.CONTENT_FILTERED]: {
    action: 'fail',
    code: 'content_filtered',
    breaker: 'none',
    reason: "has_nsfw_concepts: fal's safety checker blocked the output",
  },
  [FAL_ERROR_CODES.AUTH]: {
    action: 'fail',
    code: 'provider_auth_error',
    breaker: 'open',
    reason: 'fal 401/403: a configuration problem; every job of this model would fail the same way',
  },
  [FAL_ERROR_CODES.NOT_FOUND]: {
    action: 'resubmit',
    code: 'provider_error',
    breaker: 'none',
    reason: 'fal 404 on status/result: the request is lost or expired; submit it again',
  },
  [FAL_ERROR_CODES.RATE_LIMITED]: {
    action: 'rate-limit',
    code: 'provider_error',
    breaker: 'none',
    reason: 'fal 429: slow the queue, honour Retry-After, spend no attempt',
  },
  [FAL_ERROR_CODES.TRANSIENT]: {
    action: 'retry',
    code: 'provider_error',
    breaker: 'count',
    reason: 'fal 5xx: transient infrastructure failure',
  },
  [FAL_ERROR_CODES.TRANSPORT]: {
    action: 'retry',
    code: 'provider_error',
    breaker: 'count',
    reason: 'no HTTP answer (connection reset, DNS, refused)',
  },
  [FAL_ERROR_CODES.TIMEOUT]: {
    action: 'retry',
    code: 'provider_timeout',
    breaker: 'count',
    reason: 'a call to fal hit our per-call timeout',
  },
  [FAL_ERROR_CODES.USER_TIMEOUT]: {
    action: 'retry',
    code: 'provider_timeout',
    breaker: 'count',
    reason:
      'fal 504 with x-fal-request-timeout-type: user: no runner within X-Fal-Request-Timeout; fal must not retry it, our layer may',
  },
  [FAL_ERROR_CODES.PROTOCOL]: {
    action: 'retry',
    code: 'provider_error',
    breaker: 'count',
    reason: 'fal answered something the protocol does not allow (malformed body)',
  },
  [ATTEMPT_TIMEOUT]: {
    action: 'retry',
    code: 'provider_timeout',
    breaker: 'count',
    reason: 'our attempt timeout (a high percentile of the tracked latency) passed; cancelled at fal',
  },
};

/** The failure kind of a live or serialized error, or undefined when it is not a provider failure. */
export function failureKindOf(err: unknown): FailureKind | undefined {
  const code = falErrorCodeOf(err);
  if (code) return code;
  const own = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return own === ATTEMPT_TIMEOUT_CODE ? ATTEMPT_TIMEOUT : undefined;
}

/** The taxonomy row for a provider failure, or undefined for failures that are not fal's (inputs, bugs). */
export function classifyProviderFailure(err: unknown): (FailureRule & { kind: FailureKind }) | undefined {
  const kind = failureKindOf(err);
  return kind ? { kind, ...FAILURE_TAXONOMY[kind] } : undefined;
}

/** The server's Retry-After hint carried by a fal error, ms. */
export function retryAfterMsOf(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const value = (err as { retryAfterMs?: unknown }).retryAfterMs;
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}
