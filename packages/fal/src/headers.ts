/**
 * fal header names and the builders that turn options into headers. Builders return
 * `{}` when their option is unset so callers can spread them unconditionally.
 */

/** Request: start timeout in seconds, counted from submit until a runner starts; expiry → 504 (user). */
export const REQUEST_TIMEOUT_HEADER = 'x-fal-request-timeout';
/** Response: `user` when the 504 came from our own start timeout (must not be retried). */
export const REQUEST_TIMEOUT_TYPE_HEADER = 'x-fal-request-timeout-type';
/** Response: machine-readable error type, e.g. `request_timeout`, `runner_disconnected`. */
export const ERROR_TYPE_HEADER = 'x-fal-error-type';
/** Response: the request id the answer belongs to (set on results and most errors). */
export const REQUEST_ID_HEADER = 'x-fal-request-id';
/** Response: fal's own opinion on whether retrying can help (`true`/`false`). */
export const RETRYABLE_HEADER = 'x-fal-retryable';
/** Request: queue priority, `normal` or `low`. */
export const QUEUE_PRIORITY_HEADER = 'x-fal-queue-priority';

/** fal's SDKs refuse start timeouts at or below this many seconds; so do we. */
export const MIN_REQUEST_TIMEOUT_S = 1;

export type FalQueuePriority = 'normal' | 'low';

export function buildAuthHeaders(key: string | undefined): Record<string, string> {
  return key ? { authorization: `Key ${key}` } : {};
}

export function buildTimeoutHeaders(startTimeoutS: number | undefined): Record<string, string> {
  if (startTimeoutS === undefined) return {};
  if (!Number.isFinite(startTimeoutS) || startTimeoutS <= MIN_REQUEST_TIMEOUT_S) {
    throw new RangeError(`startTimeoutS must be greater than ${MIN_REQUEST_TIMEOUT_S} second(s)`);
  }
  return { [REQUEST_TIMEOUT_HEADER]: String(startTimeoutS) };
}

export function buildPriorityHeaders(priority: FalQueuePriority | undefined): Record<string, string> {
  return priority === undefined ? {} : { [QUEUE_PRIORITY_HEADER]: priority };
}

/** Lower-cases caller headers so ours (spread after) reliably override them. */
export function lowerCaseHeaders(headers: Record<string, string> | undefined): Record<string, string> {
  if (!headers) return {};
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}
