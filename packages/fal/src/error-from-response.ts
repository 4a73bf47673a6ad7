/**
 * The one place that maps an HTTP error answer from fal to an error class
 * (the shape of openai-node's `APIError.generate`).
 */

import { parseRetryAfterMs } from '@fluxq/runtime';
import {
  FalAuthError,
  type FalError,
  type FalErrorDetail,
  type FalErrorInit,
  FalNotFoundError,
  type FalOperation,
  FalRateLimitedError,
  FalTransientError,
  FalUserTimeoutError,
  FalValidationError,
  type FalValidationErrorInfo,
} from './errors.js';
import {
  ERROR_TYPE_HEADER,
  REQUEST_ID_HEADER,
  REQUEST_TIMEOUT_TYPE_HEADER,
  RETRYABLE_HEADER,
} from './headers.js';

export interface FalErrorFromResponseOptions {
  operation: FalOperation;
  /** Used when the answer carries no `x-fal-request-id`. */
  requestId?: string;
  /** Clock for HTTP-date `Retry-After`, in ms since the epoch. @defaultValue Date.now */
  now?: () => number;
}

/** `body` is the parsed JSON body, or the raw text when it was not JSON. */
export function falErrorFromResponse(
  status: number,
  headers: Headers | Record<string, string>,
  body: unknown,
  options: FalErrorFromResponseOptions,
): FalError {
  const h = headers instanceof Headers ? headers : new Headers(headers);
  const detail = normalizeDetail(body);
  const errorType = h.get(ERROR_TYPE_HEADER) ?? stringField(body, 'error_type');
  const retryable = h.get(RETRYABLE_HEADER);
  const init: FalErrorInit = {
    operation: options.operation,
    status,
    requestId: h.get(REQUEST_ID_HEADER) ?? options.requestId,
    errorType,
    retryAfterMs: parseRetryAfterMs((name) => h.get(name), (options.now ?? Date.now)()),
    detail,
    retryable: retryable === null ? undefined : retryable.toLowerCase() === 'true',
  };
  const head = `fal ${options.operation} failed with HTTP ${status}${errorType ? ` (${errorType})` : ''}`;
  const message = `${head}: ${describe(body, detail)}`;

  if (status === 400 || status === 422) return new FalValidationError(message, init);
  if (status === 401 || status === 403) return new FalAuthError(message, init);
  if (status === 404) return new FalNotFoundError(message, init);
  if (status === 429) return new FalRateLimitedError(message, init);
  if (status === 504 && h.get(REQUEST_TIMEOUT_TYPE_HEADER)?.toLowerCase() === 'user') {
    return new FalUserTimeoutError(message, init);
  }
  // 5xx, 408 and anything unexpected: a later attempt may succeed.
  return new FalTransientError(message, init);
}

function normalizeDetail(body: unknown): FalErrorDetail | undefined {
  const detail = isRecord(body) ? body.detail : undefined;
  if (typeof detail === 'string') return detail;
  if (!Array.isArray(detail)) return undefined;
  return detail.map((item): FalValidationErrorInfo => {
    const entry: Record<string, unknown> = isRecord(item) ? item : { msg: item };
    return {
      ...entry,
      loc: Array.isArray(entry.loc) ? entry.loc.filter(isLocPart) : [],
      msg: typeof entry.msg === 'string' ? entry.msg : JSON.stringify(entry.msg),
      type: typeof entry.type === 'string' ? entry.type : 'unknown',
    };
  });
}

const MAX_MESSAGE_BODY = 300;

function describe(body: unknown, detail: FalErrorDetail | undefined): string {
  if (typeof detail === 'string') return detail;
  if (detail && detail.length > 0) {
    return detail
      .map((d) => {
        const field = d.loc.filter((p) => p !== 'body').join('.');
        return field ? `${field}: ${d.msg}` : d.msg;
      })
      .join('; ');
  }
  const text = stringField(body, 'message') ?? (typeof body === 'string' ? body : JSON.stringify(body));
  // Gateways answer with whole HTML pages; keep messages short.
  return text === undefined || text === '' ? 'no details' : text.slice(0, MAX_MESSAGE_BODY);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isLocPart(value: unknown): value is string | number {
  return typeof value === 'string' || typeof value === 'number';
}

function stringField(body: unknown, field: string): string | undefined {
  const value = isRecord(body) ? body[field] : undefined;
  return typeof value === 'string' ? value : undefined;
}
