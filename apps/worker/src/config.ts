import {
  checkRedisModes,
  checkStorageEnv,
  envBool,
  envFilesSigningSecret,
  envFileUrlTtlS,
  envLogLevel,
  envRedisNodes,
  envRedisUrl,
  envStorageFields,
  envUrlAllowList,
  parseEnv,
} from '@fluxq/runtime';
import { z } from 'zod';

const DEFAULT_FAL_BASE_URL = 'https://queue.fal.run';
const DEFAULT_FAL_REST_URL = 'https://rest.fal.ai';
/** Sent to a non-fal FAL_BASE_URL (the simulator) when no FAL_KEY is set. */
export const SIMULATOR_KEY = 'fluxq-simulator';

/** FAL_BASE_URL as set; else the simulator when there is no key; else fal's own queue. */
const falBaseUrlOf = (env: { FAL_KEY?: string; FAL_BASE_URL?: string; FAL_SIM_URL?: string }): string =>
  env.FAL_BASE_URL ?? (env.FAL_KEY ? undefined : env.FAL_SIM_URL) ?? DEFAULT_FAL_BASE_URL;

/** Worker configuration: environment variables, units in names (DESIGN §2). */
export const workerEnvSchema = z
  .object({
    REDIS_URL: envRedisUrl,
    // Redis Cluster or Sentinel instead of REDIS_URL (packages/queue/src/redis-target.ts).
    REDIS_CLUSTER_NODES: envRedisNodes,
    REDIS_SENTINELS: envRedisNodes,
    REDIS_SENTINEL_NAME: z.string().min(1).optional(),
    FAL_KEY: z.string().min(1).optional(),
    /** fal's queue; unset: fal's own, or FAL_SIM_URL when no FAL_KEY is set. */
    FAL_BASE_URL: z.url().optional(),
    /**
     * The simulator to use when neither FAL_KEY nor FAL_BASE_URL is set: compose sets it, so
     * `--profile sim` works without exporting anything, and a FAL_KEY still means fal.ai.
     */
    FAL_SIM_URL: z.url().optional(),
    /** Where fal's storage upload handshake goes; follows FAL_BASE_URL when that is not fal's own. */
    FAL_REST_URL: z.url().optional(),
    FAL_POLL_INTERVAL_MS: z.coerce.number().int().min(10).max(60_000).default(1_000),
    /** Public URL of the API's `POST /fal/webhook`; fal then reports completions there. */
    FAL_WEBHOOK_URL: z.url().optional(),
    /** Status polling while webhooks are on: only the fallback for lost webhooks. */
    FAL_WEBHOOK_POLL_INTERVAL_MS: z.coerce.number().int().min(10).max(600_000).default(10_000),
    /** Requests in progress at fal, all workers and processes together (the account's limit). */
    FAL_MAX_CONCURRENCY: z.coerce.number().int().min(1).max(10_000).default(10),
    /** An attempt is cancelled at fal past this percentile of the tracked latency… */
    FAL_ATTEMPT_TIMEOUT_PERCENTILE: z.coerce.number().min(0.5).max(0.99999).default(0.999),
    /** …but never sooner than this… */
    FAL_ATTEMPT_TIMEOUT_MIN_MS: z.coerce.number().int().min(10).default(30_000),
    /** …nor later than this. */
    FAL_ATTEMPT_TIMEOUT_MAX_MS: z.coerce.number().int().min(10).default(300_000),
    /** Multiplies the latency priors (DESIGN §3); set it to the simulator's FAL_SIM_TIME_SCALE. */
    FAL_LATENCY_PRIOR_SCALE: z.coerce.number().positive().default(1),
    /**
     * fal latency samples are summed in memory and written this often (and at shutdown): one
     * MULTI for all of them instead of one per request. Other workers see a sample up to this
     * much later, next to the 5 s their snapshots are cached anyway.
     */
    FAL_LATENCY_FLUSH_MS: z.coerce.number().int().min(0).max(5_000).default(1_000),
    /** `X-Fal-Request-Timeout`: how long a request may wait in fal's queue. */
    FAL_START_TIMEOUT_S: z.coerce.number().int().min(2).max(3_600).default(60),
    /**
     * A second fal request is sent past this percentile of the tracked time to result (of this
     * model and operation; for a retry, counted from the job's first fal submit, so a job already late
     * after a failed attempt is hedged sooner)…
     */
    HEDGE_PERCENTILE: z.coerce.number().min(0.5).max(0.9999).default(0.95),
    /**
     * …or as soon as the request has waited in fal's queue past this percentile of the tracked
     * queue time and is still queued (1 = never). The two then race to a runner: when the
     * hedge gets one first, the first request, still queued, is cancelled, which fal does not
     * bill; when the first gets one first, both go on, since its long queue predicts a slow
     * result (cold start, busy runners). This catches most of the tail early and cheaply.
     */
    HEDGE_QUEUE_PERCENTILE: z.coerce.number().min(0.5).max(1).default(0.96),
    /**
     * The hedge budget, a token bucket per model and operation: each new fal submission adds
     * this many tokens, a hedge takes one…
     */
    HEDGE_BUDGET_RATIO: z.coerce.number().min(0).max(1).default(0.12),
    /** …and HEDGE_BUDGET_MIN tokens come back every HEDGE_BUDGET_WINDOW_MS however quiet the model is… */
    HEDGE_BUDGET_MIN: z.coerce.number().min(0).default(1),
    HEDGE_BUDGET_WINDOW_MS: z.coerce.number().int().min(10).default(60_000),
    /** …up to this many: unspent tokens carry over, so a burst of slow requests after a quiet spell is hedged. */
    HEDGE_BUDGET_BURST: z.coerce.number().min(1).default(10),
    /** Priorities whose jobs are hedged, comma-separated (`none` turns hedging off). */
    HEDGE_PRIORITIES: z
      .string()
      .default('interactive')
      .transform((value) =>
        value
          .split(',')
          .map((item) => item.trim())
          .filter((item) => item && item !== 'none'),
      )
      .pipe(z.array(z.enum(['interactive', 'default', 'bulk']))),
    /** Retries per new fal submission in a rolling window, at most (plus RETRY_BUDGET_MIN); beyond it retries wait. */
    RETRY_BUDGET_RATIO: z.coerce.number().min(0).max(10).default(0.2),
    RETRY_BUDGET_MIN: z.coerce.number().int().min(0).default(10),
    /** That window (split into 6 buckets, rolling one at a time). */
    RETRY_BUDGET_WINDOW_MS: z.coerce.number().int().min(60).default(60_000),
    /** Circuit breaker per model: opens when failures are at least this share of a window… */
    BREAKER_FAILURE_RATIO: z.coerce.number().min(0.01).max(1).default(0.5),
    /** …of at least this many outcomes… */
    BREAKER_MIN_REQUESTS: z.coerce.number().int().min(1).default(10),
    /** …within this window. */
    BREAKER_WINDOW_MS: z.coerce.number().int().min(100).default(30_000),
    /**
     * …or when this many different jobs' requests failed in a row with no success between
     * (an outage right after a busy period, whose window is full of successes; 0 = off).
     */
    BREAKER_CONSECUTIVE_FAILURES: z.coerce.number().int().min(0).default(5),
    /** First open period; each failed probe doubles it up to BREAKER_MAX_OPEN_MS. */
    BREAKER_OPEN_MS: z.coerce.number().int().min(10).default(5_000),
    BREAKER_MAX_OPEN_MS: z.coerce.number().int().min(10).default(60_000),
    /** After fal refuses our key the breaker stays open this long (a configuration problem). */
    BREAKER_AUTH_OPEN_MS: z.coerce.number().int().min(10).default(60_000),
    WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(1_000).default(50),
    WORKER_LOCK_DURATION_MS: z.coerce.number().int().min(1_000).default(30_000),
    WORKER_STALLED_INTERVAL_MS: z.coerce.number().int().min(1_000).default(30_000),
    WORKER_SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(0).default(30_000),
    /** Port of the worker's `/healthz`, `/readyz` (probes, compose healthchecks) and `/metrics`; unset: none. */
    METRICS_PORT: z.coerce.number().int().min(0).max(65_535).optional(),
    /** `false` keeps the health server but records no metrics (and serves no `/metrics`). */
    METRICS_ENABLED: envBool.default(true),
    /** When set, `/metrics` wants `Authorization: Bearer <METRICS_TOKEN>`. */
    METRICS_TOKEN: z.string().min(16).optional(),
    /** Adds a `tenant` label to job series (one series set per configured tenant). */
    METRICS_TENANT_LABELS: envBool.default(false),
    /** Where that server listens; 0.0.0.0 in a container, so the orchestrator reaches it. */
    METRICS_HOST: z.string().min(1).default('127.0.0.1'),
    /** Attempts a job may spend; attempts lost to a fal outage (breaker not closed) are not counted. */
    JOB_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(5),
    /** After this long from submission a job is not retried any more. */
    JOB_DEADLINE_MS: z.coerce.number().int().min(100).default(900_000),
    /** Backoff between attempts: full jitter over base × 2^(failures−1), capped. */
    JOB_BACKOFF_MS: z.coerce.number().int().min(0).default(1_000),
    JOB_BACKOFF_MAX_MS: z.coerce.number().int().min(0).default(30_000),
    /** Where the API is reachable: file URLs in webhook bodies point there. */
    PUBLIC_BASE_URL: z.url().default('http://127.0.0.1:8080'),
    /** The API's HMAC key for file URLs (the same value), so URLs in webhook bodies verify. */
    FILES_SIGNING_SECRET: envFilesSigningSecret,
    FILE_URL_TTL_S: envFileUrlTtlS,
    /** Webhook deliveries one worker process runs at once (their own queue, apart from image work). */
    WEBHOOK_CONCURRENCY: z.coerce.number().int().min(1).max(1_000).default(50),
    /** A receiver that has not answered by then is retried later. */
    WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(15_000),
    /** Multiplies the retry schedule (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h); tests use a small one. */
    WEBHOOK_SCHEDULE_SCALE: z.coerce.number().positive().default(1),
    URL_ALLOW_LIST: envUrlAllowList,
    ...envStorageFields,
    IMAGE_FETCH_TIMEOUT_MS: z.coerce.number().int().min(100).default(20_000),
    IMAGE_FETCH_MAX_BYTES: z.coerce
      .number()
      .int()
      .min(1_024)
      .default(25 * 1024 * 1024),
    /** Lets input image URLs use plain http (local development and tests only). */
    ALLOW_HTTP_IMAGE_URLS: envBool.default(false),
    /** Record finished jobs into the provider table (`GET /v1/stats`); off only to measure its cost. */
    STATS_ENABLED: envBool.default(true),
    /**
     * Finished jobs are summed in memory and written to the provider table this often (and at
     * shutdown): one MULTI for all of them instead of ~50 commands per job. The table lags by up
     * to this long; a crash loses at most this long of it (the jobs themselves are not affected).
     */
    STATS_FLUSH_MS: z.coerce.number().int().min(0).max(60_000).default(1_000),
    LOG_LEVEL: envLogLevel,
  })
  .superRefine((env, ctx) => {
    checkRedisModes(env, ctx);
    checkStorageEnv(env, ctx);
    if (env.FAL_ATTEMPT_TIMEOUT_MIN_MS > env.FAL_ATTEMPT_TIMEOUT_MAX_MS) {
      ctx.addIssue({
        code: 'custom',
        path: ['FAL_ATTEMPT_TIMEOUT_MIN_MS'],
        message: 'must not exceed FAL_ATTEMPT_TIMEOUT_MAX_MS',
      });
    }
    if (!env.FAL_KEY && falBaseUrlOf(env) === DEFAULT_FAL_BASE_URL) {
      ctx.addIssue({
        code: 'custom',
        path: ['FAL_KEY'],
        message:
          'is required to call fal.ai; for the local simulator set FAL_BASE_URL to it (npm start does)',
      });
    }
  })
  .transform((env) => ({
    ...env,
    FAL_BASE_URL: falBaseUrlOf(env),
    FAL_REST_URL:
      env.FAL_REST_URL ??
      (falBaseUrlOf(env) === DEFAULT_FAL_BASE_URL ? DEFAULT_FAL_REST_URL : falBaseUrlOf(env)),
    // The simulator, like fal, wants an Authorization header; it accepts any key.
    FAL_KEY: env.FAL_KEY ?? SIMULATOR_KEY,
  }));

export type WorkerConfig = z.infer<typeof workerEnvSchema>;

export const loadWorkerConfig = (env: NodeJS.ProcessEnv): WorkerConfig =>
  parseEnv(workerEnvSchema, env, 'worker');
