import { randomBytes } from 'node:crypto';
import { createFalQueueClient, createNodeHttpFetch } from '@fluxq/fal';
import { DEFAULT_INPUT_LIMITS } from '@fluxq/images';
import {
  createImagesQueue,
  createJobLifecycle,
  createJobStatusFeed,
  createRedis,
  createScheduledQueue,
  createWebhooksQueue,
  type ImagesQueue,
  imageQueueOptionsOf,
  runGrantSweeper,
  type WebhooksQueue,
} from '@fluxq/queue';
import { createProviderStats } from '@fluxq/resilience';
import type { Logger } from '@fluxq/runtime';
import { createFileUrls, createUrlSigner, openStorage, startRetentionSweep } from '@fluxq/storage';
import {
  createBatchStore,
  createJobStore,
  createWebhookDeliveryStore,
  createWebhookSettingsStore,
} from '@fluxq/store';
import { generateWebhookSecret } from '@fluxq/webhooks';
import type { Registry } from 'prom-client';
import { buildResilience } from './build-resilience.js';
import type { WorkerConfig } from './config.js';
import type { ProcessorDeps } from './deps.js';
import { reportJobEnded } from './images/job-ended.js';
import { createPrometheusWorkerMetrics } from './metrics/prometheus-worker-metrics.js';
import { noopWorkerMetrics, type WorkerMetrics } from './metrics/worker-metrics.js';
import type { WebhookProcessorDeps } from './webhooks/webhook-processor.js';

/** The connection type of `createRedis` (apps reach Redis only through @fluxq/queue). */
type Redis = ReturnType<typeof createRedis>;

/** How often expired leases are taken back and their slots granted (a crashed holder's). Unit: ms. */
const GRANT_SWEEP_MS = 2_000;

/** What a worker process runs on: the two processors' dependencies and what they share. */
export interface WorkerDeps {
  /** The shared connection (BullMQ workers use it too). */
  redis: Redis;
  /** The `images` processor's dependencies. */
  images: ProcessorDeps;
  /** The `webhooks` processor's dependencies. */
  webhooks: WebhookProcessorDeps;
  imagesQueue: ImagesQueue;
  webhooksQueue: WebhooksQueue;
  /** The `/metrics` registry, when metrics are recorded (METRICS_PORT set, METRICS_ENABLED). */
  metricsRegistry: Registry | undefined;
  /**
   * Releases everything built here, once the BullMQ workers on it are closed: sweeps, queues,
   * the resilience parts, the status feed and the connection. Each step is best-effort.
   */
  close(): Promise<void>;
}

/** Real dependencies from configuration, as `main.ts` runs them (and the in-process test harness). */
export async function buildWorkerDeps(config: WorkerConfig, logger: Logger): Promise<WorkerDeps> {
  // A missing bucket or refused credentials stop start-up here, with one line naming the variable.
  const storage = await openStorage(config);
  const redis = createRedis({ url: config.REDIS_URL, role: 'worker', name: 'fluxq-worker' });
  // Metrics are recorded only where something can scrape them (METRICS_PORT set).
  const metricsOn = config.METRICS_ENABLED && config.METRICS_PORT !== undefined;
  let metrics: WorkerMetrics = noopWorkerMetrics;
  // Granted jobs enter the images queue (the scheduler decides which, in its order).
  // The same job options as the API's queue (one definition: attempts and backoff from config),
  // since either process may be the one that enqueues a granted job.
  const imagesQueue = createImagesQueue(redis, imageQueueOptionsOf(config));
  const resilience = await buildResilience(
    config,
    redis,
    (t) => metrics.breakerTransition({ model: t.key, from: t.from, to: t.to }),
    imagesQueue,
    logger,
  );
  const prometheus = metricsOn
    ? createPrometheusWorkerMetrics({
        tenantLabels: config.METRICS_TENANT_LABELS,
        sources: {
          slotsInUse: () => resilience.parts.slots.inUse(),
          slotsLimit: config.FAL_MAX_CONCURRENCY,
          slotsHeld: () => resilience.parts.slots.held(),
          breaker: resilience.parts.breaker,
        },
      })
    : undefined;
  if (prometheus) metrics = prometheus.metrics;
  const store = createJobStore(redis);
  const deliveries = createWebhookDeliveryStore(redis);
  const webhooksQueue = createWebhooksQueue(redis);
  // Grants happen when work is admitted and when a slot frees; this only takes back the slots of
  // crashed holders (expired leases) and re-adds jobs stranded between their grant and BullMQ.
  const dispatcher = runGrantSweeper(createScheduledQueue(resilience.scheduler, imagesQueue), {
    intervalMs: GRANT_SWEEP_MS,
    onError: (err) => logger.warn({ err }, 'grant sweep failed'),
  });
  if (storage.driver === 'local' && !config.FILES_SIGNING_SECRET) {
    logger.warn('FILES_SIGNING_SECRET is unset: file URLs in webhook bodies will not verify at the API');
  }
  const signer = createUrlSigner({
    secret: config.FILES_SIGNING_SECRET ?? randomBytes(32).toString('hex'),
    baseUrl: config.PUBLIC_BASE_URL,
  });
  // Local disk only: S3 buckets expire objects with a lifecycle rule (README "Storage").
  const sweeper =
    storage.driver === 'local'
      ? startRetentionSweep({
          rootDir: config.STORAGE_DIR,
          maxAgeMs: config.OUTPUT_RETENTION_DAYS * 86_400_000,
          onSwept: (swept) => {
            if (swept.deleted > 0) logger.info(swept, 'retention sweep deleted expired blobs');
          },
          onError: (err) => logger.warn({ err }, 'retention sweep failed'),
        })
      : undefined;
  const batches = createBatchStore(redis);
  // Pub/sub needs a connection of its own: a cancel reaches the job's attempt at once.
  const statusFeed = await createJobStatusFeed(
    createRedis({ url: config.REDIS_URL, role: 'worker', name: 'fluxq-worker-job-events' }),
  );
  const stats = config.STATS_ENABLED
    ? createProviderStats(redis, {
        flushEveryMs: config.STATS_FLUSH_MS,
        onFlushError: (err) =>
          logger.warn({ err }, 'could not write the provider table; kept for the next flush'),
      })
    : undefined;
  // fal's queue calls on kept-alive node:http sockets: a fraction of fetch's CPU per call.
  const falQueueFetch = createNodeHttpFetch({ maxSockets: Math.max(64, config.WORKER_CONCURRENCY * 2) });
  const images: ProcessorDeps = {
    store,
    statusFeed,
    metrics,
    lifecycle: createJobLifecycle({
      store,
      redis,
      webhooks: { queue: webhooksQueue, deliveries },
      batches,
      scheduler: resilience.scheduler,
      logger,
      now: Date.now,
      // This process's view of the end: its Prometheus series and the provider table.
      onEnded: (record, end) => reportJobEnded(record, end, images),
    }),
    storage,
    fal: createFalQueueClient({
      baseUrl: config.FAL_BASE_URL,
      restBaseUrl: config.FAL_REST_URL,
      key: config.FAL_KEY,
      queueFetch: falQueueFetch,
    }),
    logger,
    now: Date.now,
    resilience: resilience.parts,
    ...(stats ? { stats } : {}),
    capacity: resilience.capacity,
    rateLimit: async () => {},
    settings: {
      pollIntervalMs: config.FAL_POLL_INTERVAL_MS,
      webhookPollIntervalMs: config.FAL_WEBHOOK_POLL_INTERVAL_MS,
      falWebhookUrl: config.FAL_WEBHOOK_URL,
      attemptTimeout: {
        percentile: config.FAL_ATTEMPT_TIMEOUT_PERCENTILE,
        minMs: config.FAL_ATTEMPT_TIMEOUT_MIN_MS,
        maxMs: config.FAL_ATTEMPT_TIMEOUT_MAX_MS,
      },
      startTimeoutS: config.FAL_START_TIMEOUT_S,
      hedge: {
        percentile: config.HEDGE_PERCENTILE,
        queuePercentile: config.HEDGE_QUEUE_PERCENTILE,
        priorities: config.HEDGE_PRIORITIES,
      },
      maxAttempts: config.JOB_ATTEMPTS,
      jobDeadlineMs: config.JOB_DEADLINE_MS,
      backoff: { baseMs: config.JOB_BACKOFF_MS, capMs: config.JOB_BACKOFF_MAX_MS },
      authBreakerOpenMs: config.BREAKER_AUTH_OPEN_MS,
      imageFetch: {
        timeoutMs: config.IMAGE_FETCH_TIMEOUT_MS,
        maxBytes: config.IMAGE_FETCH_MAX_BYTES,
        allowHttp: config.ALLOW_HTTP_IMAGE_URLS,
        allow: config.URL_ALLOW_LIST,
      },
      inputLimits: DEFAULT_INPUT_LIMITS,
    },
  };
  const webhooks: WebhookProcessorDeps = {
    deliveries,
    settings: createWebhookSettingsStore(redis, { generate: generateWebhookSecret }),
    view: { fileUrls: createFileUrls(storage, signer), fileUrlTtlS: config.FILE_URL_TTL_S },
    logger: logger.child({ queue: 'webhooks' }),
    now: Date.now,
    metrics,
    delivery: {
      allow: config.URL_ALLOW_LIST,
      timeoutMs: config.WEBHOOK_TIMEOUT_MS,
      scheduleScale: config.WEBHOOK_SCHEDULE_SCALE,
    },
  };
  return {
    redis,
    images,
    webhooks,
    imagesQueue,
    webhooksQueue,
    metricsRegistry: prometheus?.registry,
    async close() {
      try {
        dispatcher.stop();
        sweeper?.stop();
        await webhooksQueue.close();
        await imagesQueue.close();
      } catch (err) {
        logger.error({ err }, 'worker close failed');
      }
      // After the workers: every job they finished is in the table.
      await stats
        ?.close()
        .catch((err: unknown) => logger.warn({ err }, 'could not write the provider table'));
      await resilience.close().catch(() => {});
      falQueueFetch.close();
      await statusFeed.close().catch(() => {});
      try {
        await redis.quit();
      } catch {
        redis.disconnect();
      }
    },
  };
}
