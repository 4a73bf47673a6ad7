/**
 * When to try a failed delivery again (DESIGN §7, the Standard Webhooks schedule): about
 * 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h after the previous attempt, ±20 %, so a
 * receiver that was down for a day still gets its events, and a thousand deliveries
 * that failed together do not come back together. After the eighth attempt the
 * delivery is kept as failed and can be resent by hand.
 */

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/** Delays before attempts 2..8. Unit: milliseconds. */
export const DELIVERY_SCHEDULE_MS: readonly number[] = [
  5 * SECOND,
  5 * MINUTE,
  30 * MINUTE,
  2 * HOUR,
  5 * HOUR,
  10 * HOUR,
  10 * HOUR,
];

/** Attempts a delivery gets in all: the first plus one per scheduled delay. */
export const DELIVERY_MAX_ATTEMPTS = DELIVERY_SCHEDULE_MS.length + 1;

/** Each delay is scheduled × a uniform factor in [1 − this, 1 + this). */
export const DELIVERY_JITTER = 0.2;

/** A `Retry-After` may stretch a delay to at most this many times the scheduled one. */
export const RETRY_AFTER_CAP_FACTOR = 4;

export interface NextDeliveryDelayOptions {
  /**
   * Multiplies the schedule, so tests and demos can run it in seconds (0.001 turns
   * 10 h into 36 s). @defaultValue 1
   */
  scale?: number;
  /** Uniform in [0, 1). @defaultValue Math.random */
  random?: () => number;
  /**
   * The receiver's `Retry-After`. The delay is at least this, up to
   * {@link RETRY_AFTER_CAP_FACTOR} × the (scaled) scheduled delay, so a receiver cannot
   * park a delivery for a week. Unit: milliseconds.
   */
  retryAfterMs?: number;
}

/**
 * Milliseconds to wait before the next attempt after `attemptsMade` attempts failed
 * (1 = only the first attempt was made), or `undefined` when the schedule is used up.
 */
export function nextDeliveryDelayMs(
  attemptsMade: number,
  options: NextDeliveryDelayOptions = {},
): number | undefined {
  if (!Number.isInteger(attemptsMade) || attemptsMade < 1) {
    throw new RangeError(`attemptsMade must be an integer ≥ 1, got ${attemptsMade}`);
  }
  const scheduled = DELIVERY_SCHEDULE_MS[attemptsMade - 1];
  if (scheduled === undefined) return undefined;
  const { scale = 1, random = Math.random, retryAfterMs } = options;
  const base = scheduled * scale;
  const jittered = base * (1 - DELIVERY_JITTER + 2 * DELIVERY_JITTER * random());
  const hint =
    retryAfterMs !== undefined && Number.isFinite(retryAfterMs)
      ? Math.min(retryAfterMs, base * RETRY_AFTER_CAP_FACTOR)
      : 0;
  return Math.round(Math.max(jittered, hint));
}
