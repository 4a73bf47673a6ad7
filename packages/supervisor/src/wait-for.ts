import { setTimeout as sleep } from 'node:timers/promises';
import { inspect } from 'node:util';

export interface WaitForOptions {
  /**
   * Give up after this long. `fn` is always called at least once.
   * Unit: milliseconds.
   * @defaultValue 10_000
   */
  timeoutMs?: number;
  /**
   * Pause between two calls of `fn`.
   * Unit: milliseconds.
   * @defaultValue 50
   */
  intervalMs?: number;
  /**
   * What is being waited for, e.g. `'job to succeed'`; it leads the timeout error.
   * @defaultValue 'condition'
   */
  message?: string;
  /** Stops polling (and rejects with the signal's reason) when aborted. */
  signal?: AbortSignal;
}

/** Everything `waitFor` treats as "not yet". */
type Falsy = false | 0 | 0n | '' | null | undefined;

export class WaitForTimeoutError extends Error {
  override readonly name = 'WaitForTimeoutError';
  readonly code = 'TESTING_ERR_WAIT_TIMEOUT';
}

/**
 * Calls `fn` until it returns a truthy value, and returns that value. A throw counts as
 * "not yet" (the last error is reported on timeout). For waiting on observable state in
 * tests instead of sleeping a fixed time.
 */
export async function waitFor<T>(
  fn: () => T | Promise<T>,
  options: WaitForOptions = {},
): Promise<Exclude<T, Falsy>> {
  const { timeoutMs = 10_000, intervalMs = 50, message = 'condition', signal } = options;
  const deadline = Date.now() + timeoutMs;
  let last: { value: unknown } | { error: unknown } | undefined;
  for (;;) {
    signal?.throwIfAborted();
    try {
      const value = await fn();
      if (value) return value as Exclude<T, Falsy>;
      last = { value };
    } catch (error) {
      last = { error };
    }
    const remaining = deadline - Date.now();
    if (remaining <= 0) throw timeoutError(timeoutMs, message, last);
    await sleep(Math.min(intervalMs, remaining), undefined, signal ? { signal } : undefined).catch(
      (error) => {
        signal?.throwIfAborted();
        throw error;
      },
    );
  }
}

function timeoutError(
  timeoutMs: number,
  message: string,
  last: { value: unknown } | { error: unknown } | undefined,
): WaitForTimeoutError {
  let detail = '';
  if (last && 'error' in last) {
    detail = `; last attempt threw: ${last.error instanceof Error ? last.error.message : show(last.error)}`;
  } else if (last) {
    detail = `; last value: ${show(last.value)}`;
  }
  const error = new WaitForTimeoutError(`timed out after ${timeoutMs} ms waiting for ${message}${detail}`);
  if (last && 'error' in last) error.cause = last.error;
  return error;
}

function show(value: unknown): string {
  const text = inspect(value, { depth: 3, breakLength: Number.POSITIVE_INFINITY });
  return text.length > 500 ? `${text.slice(0, 500)}…` : text;
}
