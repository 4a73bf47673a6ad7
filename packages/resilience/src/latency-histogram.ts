import type { LatencyPrior } from '@fluxq/core';

/**
 * Log-bucketed latency histograms as plain counts per bucket index. Buckets grow by 10 %,
 * so any quantile read from them is within ~10 % of the truth whatever the scale (a 20 ms
 * status call and a 20 min generation alike), and a histogram is a small fixed set of
 * counters that Redis can add to with HINCRBY and that merge by addition.
 *
 * Bucket 0 holds [0, 10 ms]; bucket i ≥ 1 holds (10·1.1^(i−1), 10·1.1^i] ms; the last
 * bucket also takes everything above (~65 min).
 */

/** Upper bound of bucket 0. Unit: milliseconds. */
export const HISTOGRAM_MIN_MS = 10;
/** Ratio between the upper bounds of two neighbouring buckets. */
export const HISTOGRAM_GROWTH = 1.1;
/** Number of buckets: enough for the last upper bound to pass one hour. */
export const HISTOGRAM_BUCKETS =
  Math.ceil(Math.log(3_600_000 / HISTOGRAM_MIN_MS) / Math.log(HISTOGRAM_GROWTH)) + 1;

const LAST = HISTOGRAM_BUCKETS - 1;
const LOG_GROWTH = Math.log(HISTOGRAM_GROWTH);

/** Counts (possibly fractional, for priors) by bucket index. */
export type BucketCounts = ReadonlyMap<number, number> | Readonly<Record<number, number>>;

/** Upper bound of bucket `i` (the last bucket's nominal bound, though it takes anything above). */
export function bucketUpperMs(i: number): number {
  return HISTOGRAM_MIN_MS * HISTOGRAM_GROWTH ** Math.min(Math.max(0, i), LAST);
}

/** Lower bound of bucket `i` (exclusive, except 0 for bucket 0). */
function bucketLowerMs(i: number): number {
  return i <= 0 ? 0 : bucketUpperMs(i - 1);
}

/** Index of the bucket holding `ms`; negative and NaN durations count as 0. */
export function bucketOf(ms: number): number {
  if (!(ms > HISTOGRAM_MIN_MS)) return 0;
  let i = Math.ceil(Math.log(ms / HISTOGRAM_MIN_MS) / LOG_GROWTH);
  // Float error can push a value lying exactly on a bound one bucket too high.
  if (i > 1 && bucketUpperMs(i - 1) >= ms) i -= 1;
  return Math.min(i, LAST);
}

/** The non-zero counts in bucket order. */
function sortedEntries(counts: BucketCounts): Array<[number, number]> {
  const entries: Array<[number, number]> =
    counts instanceof Map
      ? [...counts.entries()]
      : Object.entries(counts).map(([key, value]): [number, number] => [Number(key), Number(value)]);
  return entries.filter(([i, c]) => Number.isInteger(i) && c > 0).sort((a, b) => a[0] - b[0]);
}

/** Sum of all counts. */
export function totalCount(counts: BucketCounts): number {
  let total = 0;
  for (const [, c] of sortedEntries(counts)) total += c;
  return total;
}

/**
 * The q-quantile (0 ≤ q ≤ 1) in ms, or undefined when there are no counts. Inside the
 * bucket holding it the value is interpolated geometrically (linearly in bucket 0), which
 * is what a log-spaced distribution looks like locally; the error is bounded by the bucket
 * width either way.
 */
export function quantile(counts: BucketCounts, q: number): number | undefined {
  const entries = sortedEntries(counts);
  let total = 0;
  for (const [, c] of entries) total += c;
  if (total <= 0) return undefined;
  const rank = Math.min(Math.max(q, 0), 1) * total;
  let below = 0;
  for (const [i, c] of entries) {
    if (below + c >= rank) {
      const fraction = Math.min(Math.max((rank - below) / c, 0), 1);
      const lower = bucketLowerMs(i);
      const upper = bucketUpperMs(i);
      return lower === 0 ? upper * fraction : lower * (upper / lower) ** fraction;
    }
    below += c;
  }
  // Only reachable through float rounding of the running sum.
  return bucketUpperMs(entries[entries.length - 1]?.[0] ?? 0);
}

/** Adds histograms bucket by bucket. */
export function mergeCounts(...parts: BucketCounts[]): Map<number, number> {
  const merged = new Map<number, number>();
  for (const part of parts) {
    for (const [i, c] of sortedEntries(part)) merged.set(i, (merged.get(i) ?? 0) + c);
  }
  return merged;
}

/**
 * `weight` pseudo-samples spread over the buckets as the lognormal fitted to a prior's
 * p50/p95 (mu = ln p50, sigma = (ln p95 − mu)/1.645) would fill them, with every duration
 * multiplied by `scale` (the fal simulator can run faster than real time). Added to real
 * counts, it stands in for samples a new series does not have yet.
 */
export function lognormalPriorCounts(prior: LatencyPrior, weight: number, scale = 1): Map<number, number> {
  const counts = new Map<number, number>();
  if (!(weight > 0) || !(prior.p50Ms > 0) || !(scale > 0)) return counts;
  const mu = Math.log(prior.p50Ms * scale);
  const sigma = prior.p95Ms > prior.p50Ms ? Math.log(prior.p95Ms / prior.p50Ms) / Z_95 : 0;
  if (sigma === 0) {
    counts.set(bucketOf(prior.p50Ms * scale), weight);
    return counts;
  }
  const cdf = (ms: number) => normalCdf((Math.log(ms) - mu) / sigma);
  let previous = 0;
  for (let i = 0; i < HISTOGRAM_BUCKETS; i++) {
    const next = i === LAST ? 1 : cdf(bucketUpperMs(i));
    const mass = (next - previous) * weight;
    // Dropping dust keeps the map (and its merges) small without moving any quantile we read.
    if (mass > weight * 1e-9) counts.set(i, mass);
    previous = next;
  }
  return counts;
}

/** z-score of the 95th percentile of the standard normal. */
const Z_95 = 1.6448536269514722;

/** Standard normal CDF via erf (Abramowitz & Stegun 7.1.26, |error| < 1.5e-7). */
function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const poly =
    t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-x * x);
  return z >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}
