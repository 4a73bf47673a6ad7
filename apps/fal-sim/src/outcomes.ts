import type { RandomSource } from '@fluxq/runtime';
import type { FaultRule } from './types.js';

/** fal's header naming the class of an infrastructure error (fal.md §2.7). */
export const ERROR_TYPE_HEADER = 'X-Fal-Error-Type';
/** fal's header marking a 504 caused by the caller's own `X-Fal-Request-Timeout`. */
export const TIMEOUT_TYPE_HEADER = 'X-Fal-Request-Timeout-Type';

/** One FastAPI/pydantic-style validation entry. */
export interface ValidationDetail {
  loc: (string | number)[];
  msg: string;
  type: string;
}

/** How a request failed: what its result answers and what its COMPLETED status reports. */
export interface ErrorOutcome {
  status: number;
  body: unknown;
  headers: Record<string, string>;
  /** COMPLETED status `error`. */
  error: string;
  /** COMPLETED status `error_type`, when there is one. */
  errorType?: string;
}

export function validationOutcome(detail: ValidationDetail[]): ErrorOutcome {
  return {
    status: 422,
    body: { detail },
    headers: {},
    // fal's webhook and CLI phrase a model error this way (fal.md §3).
    error: 'Invalid status code: 422',
    errorType: 'validation_error',
  };
}

/** A flat `{detail, error_type}` error with the type repeated in `X-Fal-Error-Type`. */
export function typedOutcome(
  status: number,
  detail: string,
  errorType: string,
  extraHeaders: Record<string, string> = {},
): ErrorOutcome {
  return {
    status,
    body: { detail, error_type: errorType },
    headers: { [ERROR_TYPE_HEADER]: errorType, ...extraHeaders },
    error: detail,
    errorType,
  };
}

/** The caller's start timeout ran out while the request was still queued. Must not be retried. */
export function userTimeoutOutcome(): ErrorOutcome {
  return typedOutcome(504, 'Request timed out', 'request_timeout', { [TIMEOUT_TYPE_HEADER]: 'user' });
}

/**
 * An IN_PROGRESS request was cancelled. fal leaves this to the app; the sim ends it with a
 * 400 so a client sees a non-retryable error rather than a half-made result.
 */
export function cancelledOutcome(): ErrorOutcome {
  return typedOutcome(400, 'Request was cancelled', 'request_cancelled');
}

/** The infrastructure failures fal documents, weighted towards the common runner disconnect. */
const INFRA_FAILURES: { weight: number; status: number; detail: string; errorType: string }[] = [
  { weight: 0.6, status: 503, detail: 'Runner disconnected', errorType: 'runner_disconnected' },
  {
    weight: 0.15,
    status: 503,
    detail: 'Runner connection timed out',
    errorType: 'runner_connection_timeout',
  },
  { weight: 0.1, status: 503, detail: 'Could not schedule a runner', errorType: 'runner_scheduling_failure' },
  { weight: 0.1, status: 500, detail: 'Internal server error', errorType: 'internal_error' },
  { weight: 0.05, status: 504, detail: 'Runner startup timed out', errorType: 'startup_timeout' },
];

export function sampleInfraFailure(random: RandomSource): ErrorOutcome {
  let draw = random();
  for (const failure of INFRA_FAILURES) {
    draw -= failure.weight;
    if (draw < 0) return typedOutcome(failure.status, failure.detail, failure.errorType);
  }
  const last = INFRA_FAILURES[0]!;
  return typedOutcome(last.status, last.detail, last.errorType);
}

/** The error an `outcome` fault rule with a status makes the request end with. */
export function faultOutcome(rule: FaultRule & { status: number }): ErrorOutcome {
  const headers = rule.headers ?? {};
  const body = rule.body ?? defaultErrorBody(rule.status);
  const bodyType = isRecord(body) && typeof body.error_type === 'string' ? body.error_type : undefined;
  const errorType = bodyType ?? headerValue(headers, ERROR_TYPE_HEADER) ?? defaultErrorType(rule.status);
  const detail = isRecord(body) ? body.detail : undefined;
  const error = typeof detail === 'string' ? detail : `Invalid status code: ${rule.status}`;
  const withType =
    errorType && rule.status !== 422 ? { [ERROR_TYPE_HEADER]: errorType, ...headers } : headers;
  return { status: rule.status, body, headers: withType, error, ...(errorType ? { errorType } : {}) };
}

/** A fal-shaped body for a status a fault rule gave without one. */
export function defaultErrorBody(status: number): unknown {
  if (status === 422) {
    return { detail: [{ loc: ['body'], msg: 'Unprocessable input', type: 'value_error' }] };
  }
  const errorType = defaultErrorType(status);
  const detail = DEFAULT_DETAILS[status] ?? `HTTP ${status}`;
  return errorType ? { detail, error_type: errorType } : { detail };
}

const DEFAULT_DETAILS: Record<number, string> = {
  400: 'Bad request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not found',
  429: 'Too many requests',
  500: 'Internal server error',
  502: 'Bad gateway',
  503: 'Service unavailable',
  504: 'Request timed out',
};

function defaultErrorType(status: number): string | undefined {
  if (status === 422) return 'validation_error';
  if (status === 503) return 'runner_disconnected';
  if (status === 504) return 'request_timeout';
  if (status === 500) return 'internal_error';
  return undefined;
}

function headerValue(headers: Record<string, string>, name: string): string | undefined {
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : headers[key];
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
