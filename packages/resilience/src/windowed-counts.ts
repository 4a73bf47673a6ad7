/**
 * Rolling-window counters kept as hash fields `<name>:<bucket>`, where bucket =
 * floor(now / bucketMs). A window is the current bucket and the `buckets − 1` before it,
 * so it rolls forward one bucket at a time instead of resetting all at once. Used by the
 * budget and the circuit breaker, whose Lua scripts include lua/window-sums.lua and whose
 * plain reads use `windowSums`, so both sides agree on what is in the window.
 */

/** Index of the bucket holding `nowMs`. */
export function bucketIndex(nowMs: number, bucketMs: number): number {
  return Math.floor(nowMs / bucketMs);
}

/** What `window_sums` computes, without pruning: sums by name over the window ending at `current`. */
export function windowSums(
  fields: Record<string, string>,
  current: number,
  buckets: number,
): Map<string, number> {
  const sums = new Map<string, number>();
  const oldest = current - buckets + 1;
  for (const [field, value] of Object.entries(fields)) {
    const match = /^([A-Za-z]+):(\d+)$/.exec(field);
    if (!match?.[1] || !match[2]) continue;
    const bucket = Number(match[2]);
    if (bucket >= oldest && bucket <= current) sums.set(match[1], (sums.get(match[1]) ?? 0) + Number(value));
  }
  return sums;
}
