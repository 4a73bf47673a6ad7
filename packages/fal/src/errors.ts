/**
 * Typed fal errors. Every class has a stable `name` and `code` because errors cross
 * Redis as plain objects (BullMQ keeps only name/message), so callers can classify
 * them without `instanceof` via `falErrorCodeOf`. The status → class mapping lives
 * in one place: `falErrorFromResponse` (error-from-response.ts).
 */

import { FAL_ERROR_CODES, type FalErrorCode } from './error-codes.js';

/** Which client call failed. */
export type FalOperation = 'submit' | 'status' | 'result' | 'cancel' | 'upload' | 'download';

/** One FastAPI/Pydantic-style entry of fal's `detail` array. `msg` is for humans; `type` is machine-readable. */
export interface FalValidationErrorInfo {
  loc: (string | number)[];
  msg: string;
  type: string;
  [extra: string]: unknown;
}

/** fal sends `detail` as an array (validation) or, on endpoints "still being migrated", a plain string. */
export type FalErrorDetail = string | FalValidationErrorInfo[];

export interface FalErrorInit {
  operation: FalOperation;
  status?: number;
  requestId?: string;
  errorType?: string;
  retryAfterMs?: number;
  detail?: FalErrorDetail;
  /** From `x-fal-retryable` when fal sent it. */
  retryable?: boolean;
  cause?: unknown;
}

export abstract class FalError extends Error {
  abstract override readonly name: string;
  abstract readonly code: FalErrorCode;
  readonly operation: FalOperation;
  readonly status?: number;
  readonly requestId?: string;
  readonly errorType?: string;
  readonly retryAfterMs?: number;
  readonly detail?: FalErrorDetail;
  readonly retryable?: boolean;

  constructor(message: string, init: FalErrorInit) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.operation = init.operation;
    this.status = init.status;
    this.requestId = init.requestId;
    this.errorType = init.errorType;
    this.retryAfterMs = init.retryAfterMs;
    this.detail = init.detail;
    this.retryable = init.retryable;
  }

  /** Plain shape for logs and Redis; `cause` is left out (it may be an arbitrary object). */
  toJSON(): Record<string, unknown> {
    const { name, code, message, operation, status, requestId, errorType, retryAfterMs, detail, retryable } =
      this;
    return { name, code, message, operation, status, requestId, errorType, retryAfterMs, detail, retryable };
  }
}

/** 400/422: the input was rejected. Never retry; show `fieldErrors` to the user. */
export class FalValidationError extends FalError {
  override readonly name = 'FalValidationError';
  readonly code = FAL_ERROR_CODES.VALIDATION;

  /** Normalised like fal-js: a string `detail` becomes one entry located at `["body"]`. */
  get fieldErrors(): FalValidationErrorInfo[] {
    if (typeof this.detail === 'string') return [{ loc: ['body'], msg: this.detail, type: 'value_error' }];
    return this.detail ?? [];
  }

  /** Entries whose last `loc` element is `field` (e.g. `image_urls`). */
  getFieldErrors(field: string): FalValidationErrorInfo[] {
    return this.fieldErrors.filter((e) => e.loc[e.loc.length - 1] === field);
  }
}

/** 401/403: bad or missing key, or the account may not do this. */
export class FalAuthError extends FalError {
  override readonly name = 'FalAuthError';
  readonly code = FAL_ERROR_CODES.AUTH;
}

/** 404. On status/result this means fal no longer knows the request (lost or expired). */
export class FalNotFoundError extends FalError {
  override readonly name = 'FalNotFoundError';
  readonly code = FAL_ERROR_CODES.NOT_FOUND;
}

/** 429. `retryAfterMs` carries the server's hint when it sent one. */
export class FalRateLimitedError extends FalError {
  override readonly name = 'FalRateLimitedError';
  readonly code = FAL_ERROR_CODES.RATE_LIMITED;
}

/** 504 with `x-fal-request-timeout-type: user`: our start timeout expired. Never retry. */
export class FalUserTimeoutError extends FalError {
  override readonly name = 'FalUserTimeoutError';
  readonly code = FAL_ERROR_CODES.USER_TIMEOUT;
}

/** 5xx, 408 and any status we don't classify otherwise. */
export class FalTransientError extends FalError {
  override readonly name = 'FalTransientError';
  readonly code = FAL_ERROR_CODES.TRANSIENT;
}

/** No HTTP answer: network failure (`FAL_ERR_TRANSPORT`) or our own timeout (`FAL_ERR_TIMEOUT`). */
export class FalTransportError extends FalError {
  override readonly name = 'FalTransportError';
  readonly code: typeof FAL_ERROR_CODES.TRANSPORT | typeof FAL_ERROR_CODES.TIMEOUT;

  constructor(message: string, init: FalErrorInit & { timedOut?: boolean }) {
    super(message, init);
    this.code = init.timedOut ? FAL_ERROR_CODES.TIMEOUT : FAL_ERROR_CODES.TRANSPORT;
  }
}

/** fal flagged images (`has_nsfw_concepts[i] === true`); those images come back black. */
export class FalContentFilteredError extends FalError {
  override readonly name = 'FalContentFilteredError';
  readonly code = FAL_ERROR_CODES.CONTENT_FILTERED;
  /** Indices into `images` that were flagged. */
  readonly flaggedIndices: number[];

  constructor(message: string, init: FalErrorInit & { flaggedIndices: number[] }) {
    super(message, init);
    this.flaggedIndices = init.flaggedIndices;
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), flaggedIndices: this.flaggedIndices };
  }
}

/** The answer was not what the protocol promises (bad JSON, missing fields, oversized body). */
export class FalProtocolError extends FalError {
  override readonly name = 'FalProtocolError';
  readonly code = FAL_ERROR_CODES.PROTOCOL;
}

export function isFalError(err: unknown): err is FalError {
  return err instanceof FalError;
}
