/**
 * Everything the client throws, apart from `TypeError` for misuse and the caller's own
 * `AbortError`: an answer the API refused ({@link FluxqAPIError} and a subclass per
 * status), no answer at all ({@link FluxqConnectionError}), or no answer in time
 * ({@link FluxqTimeoutError}).
 */

/** Which family an API error belongs to, by HTTP status. */
export type FluxqErrorKind =
  | 'bad_request'
  | 'authentication'
  | 'payment_required'
  | 'permission_denied'
  | 'not_found'
  | 'conflict'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'unprocessable_entity'
  | 'rate_limit'
  | 'server'
  | 'unknown';

/** Base of every error the client raises (check `instanceof FluxqClientError`). */
export class FluxqClientError extends Error {
  override name = 'FluxqClientError';
}

/** OpenAI's error envelope, as fluxq sends it. */
export interface ErrorBody {
  error?: { type?: string; code?: string; message?: string; param?: string | null };
}

export interface FluxqAPIErrorInit {
  status: number;
  headers: Headers;
  body: unknown;
  method: string;
  path: string;
}

/** The API answered with a non-2xx status. Fields come from the envelope and the headers. */
export class FluxqAPIError extends FluxqClientError {
  override name = 'FluxqAPIError';
  readonly kind: FluxqErrorKind = 'unknown';
  readonly status: number;
  /** Stable machine code, e.g. `invalid_size`, `job_not_found`, `rate_limited`. */
  readonly code: string | null;
  /** OpenAI's error type, e.g. `invalid_request_error`, `rate_limit_error`. */
  readonly type: string | null;
  /** The request parameter at fault, when there is one. */
  readonly param: string | null;
  /** The API's `x-request-id`: quote it when asking about a failed call. */
  readonly requestId: string | null;
  readonly headers: Headers;
  /** The parsed body (the envelope), or the text when it was not JSON. */
  readonly body: unknown;

  constructor(init: FluxqAPIErrorInit) {
    const envelope = (typeof init.body === 'object' && init.body !== null ? init.body : {}) as ErrorBody;
    const error = envelope.error ?? {};
    const requestId = init.headers.get('x-request-id');
    const detail =
      error.message ??
      (typeof init.body === 'string' && init.body ? init.body.slice(0, 200) : 'no error message');
    super(
      `${init.status}${error.code ? ` ${error.code}` : ''}: ${detail} (${init.method} ${init.path}${requestId ? `, request ${requestId}` : ''})`,
    );
    this.status = init.status;
    this.code = error.code ?? null;
    this.type = error.type ?? null;
    this.param = error.param ?? null;
    this.requestId = requestId;
    this.headers = init.headers;
    this.body = init.body;
  }
}

export class BadRequestError extends FluxqAPIError {
  override name = 'BadRequestError';
  override readonly kind = 'bad_request';
}
export class AuthenticationError extends FluxqAPIError {
  override name = 'AuthenticationError';
  override readonly kind = 'authentication';
}
/** 402 `spend_limit_reached`: the tenant's daily spend cap. */
export class PaymentRequiredError extends FluxqAPIError {
  override name = 'PaymentRequiredError';
  override readonly kind = 'payment_required';
}
export class PermissionDeniedError extends FluxqAPIError {
  override name = 'PermissionDeniedError';
  override readonly kind = 'permission_denied';
}
export class NotFoundError extends FluxqAPIError {
  override name = 'NotFoundError';
  override readonly kind = 'not_found';
}
/** 409: `idempotency_in_flight`, or `job_canceled` from a synchronous images call. */
export class ConflictError extends FluxqAPIError {
  override name = 'ConflictError';
  override readonly kind = 'conflict';
}
export class PayloadTooLargeError extends FluxqAPIError {
  override name = 'PayloadTooLargeError';
  override readonly kind = 'payload_too_large';
}
export class UnsupportedMediaTypeError extends FluxqAPIError {
  override name = 'UnsupportedMediaTypeError';
  override readonly kind = 'unsupported_media_type';
}
/** 422 `idempotency_key_reused`: the same key was sent with another body. */
export class UnprocessableEntityError extends FluxqAPIError {
  override name = 'UnprocessableEntityError';
  override readonly kind = 'unprocessable_entity';
}
export class RateLimitError extends FluxqAPIError {
  override name = 'RateLimitError';
  override readonly kind = 'rate_limit';
}
/** 5xx: the API or, for synchronous images calls, the provider failed (`provider_error`, `provider_timeout`). */
export class InternalServerError extends FluxqAPIError {
  override name = 'InternalServerError';
  override readonly kind = 'server';
}

const BY_STATUS: Record<number, new (init: FluxqAPIErrorInit) => FluxqAPIError> = {
  400: BadRequestError,
  401: AuthenticationError,
  402: PaymentRequiredError,
  403: PermissionDeniedError,
  404: NotFoundError,
  409: ConflictError,
  413: PayloadTooLargeError,
  415: UnsupportedMediaTypeError,
  422: UnprocessableEntityError,
  429: RateLimitError,
};

/** The most specific error class for a status. */
export function apiErrorFor(init: FluxqAPIErrorInit): FluxqAPIError {
  if (init.status >= 500) return new InternalServerError(init);
  const ErrorClass = BY_STATUS[init.status] ?? FluxqAPIError;
  return new ErrorClass(init);
}

/** No HTTP answer: refused, reset, DNS failure, or a body cut off mid-stream. */
export class FluxqConnectionError extends FluxqClientError {
  override name = 'FluxqConnectionError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** No answer within `timeoutMs` (a request), or the job did not end in time (`jobs.wait`). */
export class FluxqTimeoutError extends FluxqConnectionError {
  override name = 'FluxqTimeoutError';
}
