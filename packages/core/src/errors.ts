/**
 * Error codes and the one error class the API turns into OpenAI's envelope
 * (`{"error": {type, code, message, param}}`, DESIGN §5).
 */

/** Codes a client can see, by the HTTP status they travel with. */
export const ERROR_CODES = {
  // 400
  invalid_json: 400,
  invalid_request: 400,
  missing_parameter: 400,
  invalid_parameter: 400,
  unknown_parameter: 400,
  invalid_size: 400,
  too_many_images: 400,
  invalid_image: 400,
  invalid_image_url: 400,
  invalid_webhook_url: 400,
  webhook_delivery_not_found: 404,
  unknown_model: 400,
  prompt_too_long: 400,
  unsupported_parameter: 400,
  invalid_batch: 400,
  // a job that failed while a synchronous call (/v1/images/*) waited for it
  provider_validation_error: 400,
  content_filtered: 400,
  input_fetch_failed: 400,
  job_canceled: 409,
  provider_error: 502,
  provider_timeout: 504,
  // 401, 404
  invalid_api_key: 401,
  not_found: 404,
  job_not_found: 404,
  batch_not_found: 404,
  file_not_found: 404,
  upload_not_found: 404,
  model_not_found: 404,
  // 409, 422 for Idempotency-Key (DESIGN §5)
  idempotency_in_flight: 409,
  idempotency_key_reused: 422,
  // 403 for file URLs whose signature is wrong or expired
  invalid_signature: 403,
  // 413, 415
  payload_too_large: 413,
  image_too_large: 413,
  unsupported_content_type: 415,
  unsupported_image_type: 415,
  // 402: the tenant's daily spend cap is reached
  spend_limit_reached: 402,
  // 429, 503
  rate_limited: 429,
  rate_limit_exceeded: 429,
  queued_limit_reached: 429,
  redis_unavailable: 503,
  // 500: never for bad input
  internal_error: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Codes recorded on a job that failed at the provider or in the worker. */
export const JOB_ERROR_CODES = {
  provider_validation_error: 'fal rejected the request as invalid',
  provider_auth_error: 'fal refused our credentials',
  content_filtered: "fal's safety checker flagged the output",
  provider_error: 'fal failed the request and retries were exhausted',
  provider_timeout: 'fal did not finish in time and retries were exhausted',
  input_fetch_failed: 'an input image URL could not be fetched or decoded',
  canceled: 'the job was canceled',
  internal_error: 'fluxq failed to process the job',
} as const;

export type JobErrorCode = keyof typeof JOB_ERROR_CODES;

export type ErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'rate_limit_error'
  | 'insufficient_quota'
  | 'api_error';

function typeForStatus(status: number): ErrorType {
  if (status === 401) return 'authentication_error';
  // As OpenAI names a spent quota.
  if (status === 402) return 'insufficient_quota';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 429) return 'rate_limit_error';
  if (status >= 500) return 'api_error';
  return 'invalid_request_error';
}

export interface ErrorEnvelope {
  error: { type: ErrorType; code: string; message: string; param: string | null };
}

/** An error with a stable code and the HTTP status it maps to. */
export class FluxqError extends Error {
  override readonly name = 'FluxqError';
  readonly status: number;
  readonly type: ErrorType;
  readonly param: string | null;
  /** Seconds the client should wait before retrying (429, 503). */
  readonly retryAfterS: number | undefined;

  constructor(
    readonly code: ErrorCode,
    message: string,
    options: { param?: string | null; retryAfterS?: number; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.status = ERROR_CODES[code];
    this.type = typeForStatus(this.status);
    this.param = options.param ?? null;
    this.retryAfterS = options.retryAfterS;
  }

  toEnvelope(): ErrorEnvelope {
    return { error: { type: this.type, code: this.code, message: this.message, param: this.param } };
  }
}

export function isFluxqError(err: unknown): err is FluxqError {
  return err instanceof FluxqError || (err instanceof Error && err.name === 'FluxqError' && 'code' in err);
}
