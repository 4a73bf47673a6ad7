/**
 * Delay before the next attempt of a job (DESIGN §6): capped exponential backoff with
 * full jitter, so workers that failed together do not retry together, and `Retry-After`
 * honoured, because a server that names a wait knows better than our curve.
 */

export interface BackoffPolicy {
  /** Ceiling of the first delay. Unit: milliseconds. */
  baseMs: number;
  /** Largest ceiling the exponential may reach. Unit: milliseconds. */
  capMs: number;
}

export interface BackoffOptions {
  /** The server's wait hint (`Retry-After`); the delay is never shorter. Unit: milliseconds. */
  retryAfterMs?: number;
  /** Uniform in [0, 1). @defaultValue Math.random */
  random?: () => number;
}

/**
 * Milliseconds to wait after the `failures`-th consecutive failure (1 = the first):
 * uniform in [0, min(capMs, baseMs·2^(failures−1))]. A `retryAfterMs` hint raises the
 * result to at least the hint, even past `capMs`: the server asked for that long, and
 * coming back earlier only earns another refusal.
 */
export function backoffDelayMs(
  failures: number,
  policy: BackoffPolicy,
  options: BackoffOptions = {},
): number {
  if (!Number.isFinite(failures) || failures < 1) {
    throw new RangeError(`failures must be a number ≥ 1, got ${failures}`);
  }
  // The exponent is capped so 2^n stays finite (0 · ∞ would be NaN).
  const ceiling = Math.min(
    Math.max(0, policy.capMs),
    Math.max(0, policy.baseMs) * 2 ** Math.min(failures - 1, 1_000),
  );
  const jittered = Math.floor((options.random ?? Math.random)() * ceiling);
  const hint = options.retryAfterMs;
  return hint !== undefined && Number.isFinite(hint) && hint > jittered ? Math.ceil(hint) : jittered;
}
