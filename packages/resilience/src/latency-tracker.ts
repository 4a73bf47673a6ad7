import type { LatencyPrior } from '@fluxq/core';
import type { Redis } from 'ioredis';
import { type Clock, DEFAULT_KEY_PREFIX } from './defaults.js';
import { createCounterWriter } from './increment-batch.js';
import { bucketOf, lognormalPriorCounts, mergeCounts, quantile, totalCount } from './latency-histogram.js';
import { modelLatencyPrior } from './latency-series.js';

/**
 * Rolling latency distributions shared by every worker process through Redis (DESIGN
 * §6): attempt timeouts and hedging read high percentiles of how long a model really
 * takes right now, not a constant. Until a series has enough real samples, the catalog
 * prior fills in as pseudo-samples, fading out as real ones arrive.
 *
 * Only successes shape `quantile`: a failure's duration says when it failed, not how
 * long a result takes. Callers that abandon attempts at a high quantile should therefore
 * keep a floor under their timeout: the slow successes they cut off are never recorded,
 * so the distribution alone would drift downwards.
 *
 * Keys: `<prefix>latency:<series>:<window>`, window = floor(now / windowMs), one hash per
 * series and window: `ok` and `fail` counters, and histograms (field = kind:bucket, see
 * latency-histogram.ts) `done:<i>` time to completion of successes, `failed:<i>` time to
 * failure, `queue:<i>` time queued at fal, `run:<i>` time running at fal. Each key
 * expires `windows + 1` windows after its last write. With `flushEveryMs`, samples are summed in
 * memory and written together (increment-batch.ts).
 */

export interface LatencySample {
  /** Whether the attempt produced a result. */
  ok: boolean;
  /** Submit to result (or to failure). Unit: milliseconds. */
  totalMs: number;
  /** Part of it spent queued at fal, when known. Unit: milliseconds. */
  queueMs?: number;
  /** Part of it spent running at fal, when known. Unit: milliseconds. */
  runMs?: number;
}

export interface LatencyQuantiles {
  p50Ms?: number;
  p95Ms?: number;
}

export interface LatencySnapshot {
  series: string;
  /** Real successes in the window. */
  samples: number;
  /** Failures in the window. */
  failures: number;
  /** samples / (samples + failures); undefined before any outcome. */
  successRate: number | undefined;
  /** True while the prior still stands in for missing samples. */
  usingPrior: boolean;
  /**
   * The q-quantile of time to completion, in ms: real successes plus the prior's
   * pseudo-samples; `fallbackMs` when there is neither.
   */
  quantile(q: number): number;
  /** Time queued at fal (real samples only). */
  queue: LatencyQuantiles;
  /** The q-quantile of time queued at fal, in ms; undefined below `minSamples` real queue samples. */
  queueQuantile(q: number): number | undefined;
  /** Time running at fal (real samples only). */
  run: LatencyQuantiles;
  /** Time to failure (real samples only). */
  failure: LatencyQuantiles;
}

export interface LatencyTrackerOptions {
  /** @defaultValue '{fluxq}:' */
  prefix?: string;
  /** Length of one window. Unit: milliseconds. @defaultValue 60_000 */
  windowMs?: number;
  /** Windows in the distribution (30 × 1 min = the last half hour). @defaultValue 30 */
  windows?: number;
  /** The prior of a series. @defaultValue the catalog prior of the model the series names */
  priors?: (series: string) => LatencyPrior | undefined;
  /** Multiplies the priors' durations (the fal simulator may run faster than real time). @defaultValue 1 */
  priorScale?: number;
  /** Real successes before the prior drops out; below, it weighs `minSamples − samples`. @defaultValue 50 */
  minSamples?: number;
  /** Snapshots are reused for this long, so hot paths do not read Redis per call. Unit: ms. @defaultValue 5_000 */
  cacheMs?: number;
  /** What `quantile` answers with neither samples nor a prior. Unit: milliseconds. @defaultValue 60_000 */
  fallbackMs?: number;
  /**
   * 0: each `record` is written (one MULTI) before it resolves. Above 0: samples are summed in
   * memory and written together this often (one HINCRBY per counter), and on `flush` and `close`.
   * Other processes then see a sample up to this much later, on top of their `cacheMs`.
   * Unit: ms. @defaultValue 0
   */
  flushEveryMs?: number;
  /** A timed flush failed (its samples are kept for the next one). */
  onFlushError?: (err: unknown) => void;
  now?: Clock;
}

export interface LatencyTracker {
  /** Adds one finished attempt to the current window. */
  record(series: string, sample: LatencySample): Promise<void>;
  /** The distribution over the last `windows` windows, from this process's cache when fresh. */
  snapshot(series: string): Promise<LatencySnapshot>;
  /** Drops cached snapshots, so the next `snapshot` reads Redis. */
  invalidate(): void;
  /** Writes the samples recorded and not yet written (with `flushEveryMs`; else there are none). */
  flush(): Promise<void>;
  /** Stops the timed flush and writes what is left. */
  close(): Promise<void>;
}

/** Histogram kinds, as field-name prefixes. */
type Kind = 'done' | 'failed' | 'queue' | 'run';

export function createLatencyTracker(redis: Redis, options: LatencyTrackerOptions = {}): LatencyTracker {
  const prefix = options.prefix ?? DEFAULT_KEY_PREFIX;
  const windowMs = options.windowMs ?? 60_000;
  const windows = options.windows ?? 30;
  const priors = options.priors ?? modelLatencyPrior;
  const priorScale = options.priorScale ?? 1;
  const minSamples = options.minSamples ?? 50;
  const cacheMs = options.cacheMs ?? 5_000;
  const fallbackMs = options.fallbackMs ?? 60_000;
  const now = options.now ?? Date.now;
  const ttlMs = (windows + 1) * windowMs;
  const keyOf = (series: string, window: number) => `${prefix}latency:${series}:${window}`;
  const counters = createCounterWriter(redis, now, options);

  const cache = new Map<string, { atMs: number; snapshot: Promise<LatencySnapshot> }>();
  /** One pseudo-sample of each prior, spread over the buckets; scaled by weight on use. */
  const unitPriors = new Map<string, Map<number, number>>();

  const priorCounts = (prior: LatencyPrior, weight: number): Map<number, number> => {
    const id = `${prior.p50Ms}/${prior.p95Ms}`;
    let unit = unitPriors.get(id);
    if (!unit) {
      unit = lognormalPriorCounts(prior, 1, priorScale);
      unitPriors.set(id, unit);
    }
    return new Map([...unit].map(([i, c]) => [i, c * weight]));
  };

  const load = async (series: string): Promise<LatencySnapshot> => {
    const current = Math.floor(now() / windowMs);
    const pipeline = redis.pipeline();
    for (let w = current - windows + 1; w <= current; w++) pipeline.hgetall(keyOf(series, w));
    const replies = (await pipeline.exec()) ?? [];

    const histograms: Record<Kind, Map<number, number>> = {
      done: new Map(),
      failed: new Map(),
      queue: new Map(),
      run: new Map(),
    };
    let samples = 0;
    let failures = 0;
    for (const [err, reply] of replies) {
      if (err) throw err;
      for (const [field, value] of Object.entries(reply as Record<string, string>)) {
        const count = Number(value);
        if (field === 'ok') samples += count;
        else if (field === 'fail') failures += count;
        else {
          const [kind, bucket] = field.split(':');
          const histogram = histograms[kind as Kind] as Map<number, number> | undefined;
          if (histogram && bucket)
            histogram.set(Number(bucket), (histogram.get(Number(bucket)) ?? 0) + count);
        }
      }
    }

    const prior = priors(series);
    const priorWeight = prior ? Math.max(0, minSamples - samples) : 0;
    const completion =
      prior && priorWeight > 0
        ? mergeCounts(histograms.done, priorCounts(prior, priorWeight))
        : histograms.done;
    const quantiles = (counts: Map<number, number>): LatencyQuantiles => ({
      p50Ms: quantile(counts, 0.5),
      p95Ms: quantile(counts, 0.95),
    });
    return {
      series,
      samples,
      failures,
      successRate: samples + failures > 0 ? samples / (samples + failures) : undefined,
      usingPrior: priorWeight > 0,
      quantile: (q) => quantile(completion, q) ?? fallbackMs,
      queue: quantiles(histograms.queue),
      queueQuantile: (q) =>
        totalCount(histograms.queue) >= minSamples ? quantile(histograms.queue, q) : undefined,
      run: quantiles(histograms.run),
      failure: quantiles(histograms.failed),
    };
  };

  return {
    record(series, sample) {
      const key = keyOf(series, Math.floor(now() / windowMs));
      const expireAtMs = now() + ttlMs;
      return counters.add((batch) => {
        batch.add(key, sample.ok ? 'ok' : 'fail', 1, expireAtMs);
        batch.add(key, `${sample.ok ? 'done' : 'failed'}:${bucketOf(sample.totalMs)}`, 1, expireAtMs);
        if (sample.queueMs !== undefined) batch.add(key, `queue:${bucketOf(sample.queueMs)}`, 1, expireAtMs);
        if (sample.runMs !== undefined) batch.add(key, `run:${bucketOf(sample.runMs)}`, 1, expireAtMs);
      });
    },

    snapshot(series) {
      const t = now();
      const cached = cache.get(series);
      if (cached && t >= cached.atMs && t - cached.atMs < cacheMs) return cached.snapshot;
      const snapshot = load(series);
      cache.set(series, { atMs: t, snapshot });
      // A failed read is not cached: the next call tries Redis again.
      snapshot.catch(() => {
        if (cache.get(series)?.snapshot === snapshot) cache.delete(series);
      });
      return snapshot;
    },

    invalidate() {
      cache.clear();
    },

    flush: counters.flush,
    close: counters.close,
  };
}
