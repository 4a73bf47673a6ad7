import { STATUS_CODES } from 'node:http';
import { parseRetryAfterMs } from '@fluxq/runtime';
import { OutboundRequestError } from './outbound-error.js';
import { postPinned } from './pinned-request.js';
import { checkUrl, type Resolve } from './ssrf-guard.js';

/**
 * One delivery attempt of one webhook, and what it means (DESIGN §7): only 2xx is
 * success; 410 disables the endpoint; every other answer, a redirect (never followed),
 * a timeout or a connection error is retried on the schedule; a URL the SSRF guard
 * refuses is `blocked` and not retried, because resolving it again later would only let
 * a rebinding DNS server try its luck again. This function never throws: the worker
 * stores the outcome in the delivery log either way.
 */

export interface DeliveryAttempt {
  /** The endpoint, checked by the SSRF guard on every attempt. */
  url: string;
  /** SSRF exceptions (see `checkUrl`). @defaultValue [] */
  allow?: readonly string[];
  /** Usually `signedHeaders(...)`; `content-type: application/json` is added unless set. */
  headers: Record<string, string>;
  /** The exact signed body. */
  body: string;
  /** Bound on the whole attempt. Unit: milliseconds. @defaultValue 15_000 */
  timeoutMs?: number;
  /** Name resolution, for tests. @defaultValue the system resolver */
  resolve?: Resolve;
  /** Aborts the attempt (worker shutdown); the outcome is then `retry`. */
  signal?: AbortSignal;
}

/** Fields every outcome has, so a delivery log can read them without narrowing. */
interface OutcomeBase {
  /** From the start of the URL check to the outcome. Unit: milliseconds. */
  durationMs: number;
  /** The receiver's HTTP status, when it answered. */
  status?: number;
  /** Short text for the delivery log: `HTTP 503 Service Unavailable`, `timed out after 15000 ms`… */
  error?: string;
  /** The address the request went to (pinned by the SSRF guard), when it was sent. */
  address?: string;
  /** The start of the receiver's body, when it answered. */
  bodySnippet?: string;
}

/** 2xx: done. */
export interface DeliveredOutcome extends OutcomeBase {
  kind: 'delivered';
  status: number;
  error?: undefined;
  address: string;
  bodySnippet: string;
}

/** 410: the receiver asks us to stop; disable the endpoint. */
export interface GoneOutcome extends OutcomeBase {
  kind: 'gone';
  status: 410;
  error: string;
  address: string;
  bodySnippet: string;
}

/** Any other answer, or none: try again later on the schedule. */
export interface RetryOutcome extends OutcomeBase {
  kind: 'retry';
  error: string;
  /** The receiver's `Retry-After`, when it sent one. Unit: milliseconds. */
  retryAfterMs?: number;
}

/** The SSRF guard refused the URL: not sent, not retried. */
export interface BlockedOutcome extends OutcomeBase {
  kind: 'blocked';
  status?: undefined;
  /** What was refused, e.g. `127.0.0.1 is a loopback address`. */
  reason: string;
  error: string;
}

export type DeliveryOutcome = DeliveredOutcome | GoneOutcome | RetryOutcome | BlockedOutcome;

/** Default bound on one attempt (DESIGN §7). Unit: milliseconds. */
export const DELIVERY_TIMEOUT_MS = 15_000;

const statusText = (status: number) =>
  `HTTP ${status}${STATUS_CODES[status] ? ` ${STATUS_CODES[status]}` : ''}`;

const clip = (text: string, max = 200) => (text.length > max ? `${text.slice(0, max)}…` : text);

/** Checks the URL, POSTs to the checked address, and classifies what happened. */
export async function attemptDelivery(attempt: DeliveryAttempt): Promise<DeliveryOutcome> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const checked = await checkUrl(attempt.url, { allow: attempt.allow ?? [], resolve: attempt.resolve });
  if (!checked.ok) {
    return { kind: 'blocked', reason: checked.reason, error: checked.reason, durationMs: elapsed() };
  }

  let response: Awaited<ReturnType<typeof postPinned>>;
  try {
    response = await postPinned(checked, {
      headers: { 'content-type': 'application/json', ...attempt.headers },
      body: attempt.body,
      timeoutMs: attempt.timeoutMs ?? DELIVERY_TIMEOUT_MS,
      signal: attempt.signal,
    });
  } catch (err) {
    const error = err instanceof OutboundRequestError ? err.message : String(err);
    return { kind: 'retry', error: clip(error), address: checked.address, durationMs: elapsed() };
  }

  const { status, headers, bodySnippet } = response;
  const answered = { status, address: checked.address, bodySnippet, durationMs: elapsed() };
  if (status >= 200 && status < 300) return { kind: 'delivered', ...answered };
  if (status === 410) return { kind: 'gone', ...answered, status, error: statusText(status) };
  const location = headers.location;
  const error =
    status >= 300 && status < 400
      ? `${statusText(status)}: redirect${location ? ` to ${clip(location)}` : ''} not followed`
      : statusText(status);
  const retryAfterMs = parseRetryAfterMs((name) => {
    const value = headers[name];
    return Array.isArray(value) ? value[0] : value;
  });
  return { kind: 'retry', ...answered, error, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
}
