import { MODEL_IDS, type ModelId, type Operation } from '@fluxq/core';
import type { Redis } from 'ioredis';
import { type Clock, DEFAULT_KEY_PREFIX } from './defaults.js';
import { createCounterWriter, type IncrementBatch } from './increment-batch.js';
import type { JobStatsFacts } from './job-stats-facts.js';
import { bucketOf, bucketUpperMs, quantile, totalCount } from './latency-histogram.js';
import { latencySeries } from './latency-series.js';
import { bucketIndex } from './windowed-counts.js';

/**
 * The provider table behind `GET /v1/stats`: per model and operation, fal's side (generation
 * time, success rate, time to first byte; global) and what fluxq delivered (jobs, end-to-end
 * time, hedges, retries, submits, cost; per tenant and for all tenants). Counters and
 * log-bucketed histograms (latency-histogram.ts, the latency tracker's buckets) in Redis
 * hashes, one hash per time bucket and scope, so a window is a handful of HGETALLs and
 * never a scan of job records.
 *
 * Three resolutions, each serving the windows it is fine enough for: 5-minute buckets for
 * `1h`, hourly for `24h` and `7d`, daily for `30d`. A window is the bucket holding `now`
 * and the ones before it back to the one holding `now − window`: it starts on a bucket
 * boundary, so it covers up to one bucket more than its name (1 h – 1 h 5 min for `1h`).
 *
 * Keys: `{fluxq}:stats:<resolution>:<bucket>:<scope>`, scope `fal` (provider columns),
 * `jobs` (delivered, every tenant) or `tenant:<id>`. Fields: `<model>:<operation>|<name>`,
 * histogram fields `<name>:<bucket index>`. Each key expires a bucket after the longest
 * window it serves. Finished jobs are HINCRBYs, summed in memory first with `flushEveryMs`
 * (increment-batch.ts); nothing is read to record one.
 */

export const STATS_WINDOWS = ['1h', '24h', '7d', '30d'] as const;
export type StatsWindow = (typeof STATS_WINDOWS)[number];
export const DEFAULT_STATS_WINDOW: StatsWindow = '24h';

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

interface Resolution {
  name: string;
  bucketMs: number;
  /** The longest window it serves. */
  longestMs: number;
}

const RESOLUTIONS = {
  fine: { name: 'm5', bucketMs: 5 * MINUTE_MS, longestMs: HOUR_MS },
  hourly: { name: 'h', bucketMs: HOUR_MS, longestMs: 7 * DAY_MS },
  daily: { name: 'd', bucketMs: DAY_MS, longestMs: 30 * DAY_MS },
} as const satisfies Record<string, Resolution>;

/** Each window's length and the resolution it is read at. */
const WINDOWS: Record<StatsWindow, { ms: number; resolution: Resolution }> = {
  '1h': { ms: HOUR_MS, resolution: RESOLUTIONS.fine },
  '24h': { ms: DAY_MS, resolution: RESOLUTIONS.hourly },
  '7d': { ms: 7 * DAY_MS, resolution: RESOLUTIONS.hourly },
  '30d': { ms: 30 * DAY_MS, resolution: RESOLUTIONS.daily },
};

export function isStatsWindow(value: unknown): value is StatsWindow {
  return (STATS_WINDOWS as readonly unknown[]).includes(value);
}

/** A latency figure: quantiles read from the histogram, and how many samples it holds. */
export interface LatencyFigure {
  samples: number;
  p50_ms: number | null;
  p95_ms: number | null;
  p99_ms: number | null;
  /** Non-empty buckets, by upper bound (only when asked for). */
  histogram?: Array<{ le_ms: number; count: number }>;
}

/** A ratio and the count it is a ratio of. */
export interface RateFigure {
  value: number | null;
  samples: number;
}

export interface StatsRow {
  model: ModelId;
  operation: Operation;
  provider: {
    /** fal requests that reached an end (a result, an error, or lost at fal). */
    requests: number;
    /** Completed / reached an end. */
    success_rate: RateFigure;
    /** Submit → result of completed first requests. */
    generation: LatencyFigure;
    /** Submit → fal first reported the request in progress. */
    time_to_first_byte: LatencyFigure;
  };
  delivered: {
    /** Jobs that ended (succeeded or failed; canceled jobs are not counted). */
    jobs: number;
    succeeded: number;
    failed: number;
    /** Succeeded / ended. */
    success_rate: RateFigure;
    /** Accepted → stored, of succeeded jobs. */
    end_to_end: LatencyFigure;
    /** Jobs with a hedge sent / ended jobs. */
    hedge_rate: RateFigure;
    /** Jobs that took more than one attempt / ended jobs. */
    retry_rate: RateFigure;
    /** fal requests submitted for ended jobs / succeeded jobs. */
    fal_submits_per_job: RateFigure;
    /** Price of delivered images / images delivered (samples: images). */
    cost_per_image_usd: RateFigure;
  };
}

export interface StatsQuery {
  window: StatsWindow;
  /** One tenant's delivered figures; null = every tenant's. */
  tenant: string | null;
  /** Include each latency figure's histogram buckets. */
  histogram?: boolean;
}

export interface StatsTable {
  window: StatsWindow;
  /** Start of the first bucket read. Unit: ms timestamp. */
  sinceMs: number;
  rows: StatsRow[];
}

export interface ProviderStatsOptions {
  /** @defaultValue '{fluxq}:' */
  prefix?: string;
  now?: Clock;
  /**
   * 0: each `record` is written (one MULTI) before it resolves. Above 0: jobs are summed in
   * memory and written together this often (one MULTI of one HINCRBY per counter, however many
   * jobs bumped it), and on `flush` and `close`; a busy worker then costs Redis a few dozen
   * commands a second instead of ~50 per job, and the table lags by up to this long.
   * Unit: ms. @defaultValue 0
   */
  flushEveryMs?: number;
  /** A timed flush failed (its increments are kept for the next one). */
  onFlushError?: (err: unknown) => void;
}

export interface ProviderStats {
  /** Adds a finished job to every resolution (written before it resolves unless `flushEveryMs`). */
  record(facts: JobStatsFacts): Promise<void>;
  read(query: StatsQuery): Promise<StatsTable>;
  /** Writes the jobs recorded and not yet written (with `flushEveryMs`; else there are none). */
  flush(): Promise<void>;
  /** Stops the timed flush and writes what is left. */
  close(): Promise<void>;
}

type Fields = Map<string, number>;

const add = <K>(fields: Map<K, number>, name: K, by = 1) => {
  if (by !== 0) fields.set(name, (fields.get(name) ?? 0) + by);
};

/** Provider fields one job adds (prefixed with its series by the caller). */
function providerFields(facts: JobStatsFacts): Fields {
  const fields: Fields = new Map();
  for (const request of facts.requests) {
    if (request.ended) add(fields, 'ended');
    if (request.completed && request.ended) add(fields, 'completed');
    if (request.generationMs !== undefined) add(fields, `gen:${bucketOf(request.generationMs)}`);
    if (request.firstByteMs !== undefined) add(fields, `ttfb:${bucketOf(request.firstByteMs)}`);
  }
  return fields;
}

/** Delivered fields one job adds. */
function deliveredFields(facts: JobStatsFacts): Fields {
  const fields: Fields = new Map();
  add(fields, facts.status);
  if (facts.status === 'succeeded') add(fields, `e2e:${bucketOf(facts.totalMs)}`);
  if (facts.hedged) add(fields, 'hedged');
  if (facts.retried) add(fields, 'retried');
  add(fields, 'submits', facts.submits);
  add(fields, 'images', facts.images);
  add(fields, 'cost', facts.costMicroUsd);
  return fields;
}

/** Counters and histograms of one series, summed over a window's buckets. */
interface SeriesSums {
  counts: Map<string, number>;
  histograms: Map<string, Map<number, number>>;
}

function sumsOf(replies: Array<Record<string, string>>): Map<string, SeriesSums> {
  const bySeries = new Map<string, SeriesSums>();
  for (const reply of replies) {
    for (const [field, value] of Object.entries(reply)) {
      const bar = field.lastIndexOf('|');
      if (bar < 0) continue;
      const series = field.slice(0, bar);
      const name = field.slice(bar + 1);
      let sums = bySeries.get(series);
      if (!sums) {
        sums = { counts: new Map(), histograms: new Map() };
        bySeries.set(series, sums);
      }
      const count = Number(value);
      const colon = name.indexOf(':');
      if (colon < 0) {
        add(sums.counts, name, count);
        continue;
      }
      const kind = name.slice(0, colon);
      const bucket = Number(name.slice(colon + 1));
      let histogram = sums.histograms.get(kind);
      if (!histogram) {
        histogram = new Map();
        sums.histograms.set(kind, histogram);
      }
      add(histogram, bucket, count);
    }
  }
  return bySeries;
}

const round = (ms: number | undefined) => (ms === undefined ? null : Math.round(ms));

function latencyFigure(counts: Map<number, number> | undefined, withHistogram: boolean): LatencyFigure {
  const histogram = counts ?? new Map<number, number>();
  const figure: LatencyFigure = {
    samples: totalCount(histogram),
    p50_ms: round(quantile(histogram, 0.5)),
    p95_ms: round(quantile(histogram, 0.95)),
    p99_ms: round(quantile(histogram, 0.99)),
  };
  if (withHistogram) {
    figure.histogram = [...histogram.entries()]
      .filter(([, count]) => count > 0)
      .sort((a, b) => a[0] - b[0])
      .map(([bucket, count]) => ({ le_ms: Math.round(bucketUpperMs(bucket) * 10) / 10, count }));
  }
  return figure;
}

const rate = (part: number, whole: number): RateFigure => ({
  value: whole > 0 ? part / whole : null,
  samples: whole,
});

export function createProviderStats(redis: Redis, options: ProviderStatsOptions = {}): ProviderStats {
  const prefix = options.prefix ?? DEFAULT_KEY_PREFIX;
  const now = options.now ?? Date.now;
  const keyOf = (resolution: Resolution, bucket: number, scope: string) =>
    `${prefix}stats:${resolution.name}:${bucket}:${scope}`;

  /** A job's increments, in the buckets holding the time it is recorded at. */
  const addJob = (batch: IncrementBatch, facts: JobStatsFacts) => {
    const series = latencySeries(facts.model, facts.operation);
    const scopes: Array<[string, Fields]> = [
      ['fal', providerFields(facts)],
      ['jobs', deliveredFields(facts)],
    ];
    scopes.push([`tenant:${facts.tenant}`, scopes[1]![1]]);
    const nowMs = now();
    for (const resolution of Object.values(RESOLUTIONS)) {
      const bucket = bucketIndex(nowMs, resolution.bucketMs);
      // Past the end of the bucket, the longest window that reads it, and a bucket of slack.
      const expireAtMs = (bucket + 2) * resolution.bucketMs + resolution.longestMs;
      for (const [scope, fields] of scopes) {
        const key = keyOf(resolution, bucket, scope);
        for (const [name, by] of fields) batch.add(key, `${series}|${name}`, by, expireAtMs);
      }
    }
  };

  const counters = createCounterWriter(redis, now, options);

  return {
    record: (facts) => counters.add((batch) => addJob(batch, facts)),
    flush: counters.flush,
    close: counters.close,

    async read({ window, tenant, histogram = false }) {
      const { ms, resolution } = WINDOWS[window];
      const current = bucketIndex(now(), resolution.bucketMs);
      const first = bucketIndex(now() - ms, resolution.bucketMs);
      const delivered = tenant === null ? 'jobs' : `tenant:${tenant}`;
      const pipeline = redis.pipeline();
      for (let bucket = first; bucket <= current; bucket++) {
        pipeline.hgetall(keyOf(resolution, bucket, 'fal'));
        pipeline.hgetall(keyOf(resolution, bucket, delivered));
      }
      const replies = (await pipeline.exec()) ?? [];
      const provider: Array<Record<string, string>> = [];
      const jobs: Array<Record<string, string>> = [];
      replies.forEach(([err, reply], i) => {
        if (err) throw err;
        (i % 2 === 0 ? provider : jobs).push(reply as Record<string, string>);
      });
      const providerSums = sumsOf(provider);
      const jobSums = sumsOf(jobs);

      const rows: StatsRow[] = [];
      for (const model of MODEL_IDS) {
        for (const operation of ['generate', 'edit'] as const) {
          const series = latencySeries(model, operation);
          const p = providerSums.get(series);
          const d = jobSums.get(series);
          if (!p && !d) continue;
          const count = (sums: SeriesSums | undefined, name: string) => sums?.counts.get(name) ?? 0;
          const ended = count(p, 'ended');
          const succeeded = count(d, 'succeeded');
          const failed = count(d, 'failed');
          const jobsEnded = succeeded + failed;
          const images = count(d, 'images');
          const cost = rate(count(d, 'cost') / 1e6, images);
          rows.push({
            model,
            operation,
            provider: {
              requests: ended,
              success_rate: rate(count(p, 'completed'), ended),
              generation: latencyFigure(p?.histograms.get('gen'), histogram),
              time_to_first_byte: latencyFigure(p?.histograms.get('ttfb'), histogram),
            },
            delivered: {
              jobs: jobsEnded,
              succeeded,
              failed,
              success_rate: rate(succeeded, jobsEnded),
              end_to_end: latencyFigure(d?.histograms.get('e2e'), histogram),
              hedge_rate: rate(count(d, 'hedged'), jobsEnded),
              retry_rate: rate(count(d, 'retried'), jobsEnded),
              fal_submits_per_job: rate(count(d, 'submits'), succeeded),
              cost_per_image_usd: {
                ...cost,
                value: cost.value === null ? null : Math.round(cost.value * 1e6) / 1e6,
              },
            },
          });
        }
      }
      return { window, sinceMs: first * resolution.bucketMs, rows };
    },
  };
}
