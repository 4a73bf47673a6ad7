/**
 * One HTTP attempt with its own AbortController timeout and the caller's signal linked in.
 * Everything that is not already a FalError becomes a FalTransportError, except a caller
 * abort, which rethrows the signal's reason (as fetch does) so cancellation stays cancellation.
 */

import { falErrorFromResponse } from './error-from-response.js';
import { type FalOperation, FalProtocolError, FalTransportError, isFalError } from './errors.js';
import { REQUEST_ID_HEADER } from './headers.js';

export interface HttpAttempt<T> {
  fetch: typeof fetch;
  operation: FalOperation;
  url: string;
  init: Omit<RequestInit, 'signal'>;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Reads the response; runs under the same timer so slow bodies time out too. */
  handle: (res: Response) => Promise<T>;
}

export async function httpAttempt<T>(attempt: HttpAttempt<T>): Promise<T> {
  const { signal, operation, timeoutMs } = attempt;
  signal?.throwIfAborted();
  const controller = new AbortController();
  const onCallerAbort = () => controller.abort(signal?.reason);
  signal?.addEventListener('abort', onCallerAbort, { once: true });
  let timedOut = false;
  // The callback only flips a flag and aborts; throwing in a timer could not be caught.
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  try {
    const res = await attempt.fetch(attempt.url, { ...attempt.init, signal: controller.signal });
    return await attempt.handle(res);
  } catch (err) {
    if (isFalError(err)) throw err;
    if (signal?.aborted) throw signal.reason;
    if (timedOut) {
      throw new FalTransportError(`fal ${operation} timed out after ${timeoutMs} ms`, {
        operation,
        timedOut: true,
        cause: err,
      });
    }
    throw new FalTransportError(`fal ${operation} request failed: ${describeTransportError(err)}`, {
      operation,
      cause: err,
    });
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onCallerAbort);
  }
}

/** Throws the classified FalError for a non-2xx answer (reading its body first). */
export async function throwIfNotOk(
  res: Response,
  operation: FalOperation,
  requestId?: string,
): Promise<void> {
  if (res.ok) return;
  const text = await res.text();
  throw falErrorFromResponse(res.status, res.headers, parseJsonOr(text, text), { operation, requestId });
}

/** Parses a 2xx JSON body; malformed JSON is a protocol error, not a transport one. */
export async function readJson(res: Response, operation: FalOperation, requestId?: string): Promise<unknown> {
  const text = await res.text();
  const parsed = parseJsonOr(text, NOT_JSON);
  if (parsed === NOT_JSON) {
    throw new FalProtocolError(`fal ${operation} returned malformed JSON (HTTP ${res.status})`, {
      operation,
      status: res.status,
      requestId: res.headers.get(REQUEST_ID_HEADER) ?? requestId,
    });
  }
  return parsed;
}

const NOT_JSON = Symbol('not-json');

function parseJsonOr<T>(text: string, fallback: T): unknown | T {
  try {
    return JSON.parse(text);
  } catch {
    return fallback;
  }
}

function describeTransportError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  // undici wraps the useful part ("connect ECONNREFUSED 127.0.0.1:1") in `cause`.
  const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
  return `${err.message}${cause}`;
}
