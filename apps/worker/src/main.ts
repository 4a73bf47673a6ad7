import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { createFalQueueClient } from '@fluxq/fal';
import { DEFAULT_INPUT_LIMITS } from '@fluxq/images';
import {
  createBatchStore,
  createImagesQueue,
  createJobLifecycle,
  createJobStatusFeed,
  createJobStore,
  createRedis,
  createScheduledQueue,
  createWebhookDeliveryStore,
  createWebhookSettingsStore,
  createWebhooksQueue,
  imageQueueOptionsOf,
  runGrantSweeper,
} from '@fluxq/queue';
import { createProviderStats } from '@fluxq/resilience';
import { createLogger } from '@fluxq/runtime';
import { createFileUrls, createUrlSigner, openStorage, startRetentionSweep } from '@fluxq/storage';
import { generateWebhookSecret } from '@fluxq/webhooks';
import { buildResilience } from './build-resilience.js';
import { loadWorkerConfig } from './config.js';
import type { ProcessorDeps } from './deps.js';
import { type HealthServer, startHealthServer } from './health-server.js';
import { createImageWorker } from './image-worker.js';
import { reportJobEnded } from './job-ended.js';
import { createPrometheusWorkerMetrics } from './metrics/prometheus-worker-metrics.js';
import { noopWorkerMetrics, type WorkerMetrics } from './metrics/worker-metrics.js';
import { createWebhookWorker } from './webhook-worker.js';

/** How often expired leases are taken back and their slots granted (a crashed holder's). Unit: ms. */
const GRANT_SWEEP_MS = 2_000;

/** Worker process entry: one BullMQ worker on `images`, stopped gracefully on SIGTERM/SIGINT. */
async function main(): Promise<void> {
  const config = loadWorkerConfig(process.env);
  const logger = createLogger({ name: 'worker', level: config.LOG_LEVEL });
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
  const deps: ProcessorDeps = {
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
      onEnded: (record, end) => reportJobEnded(record, end, deps),
    }),
    storage,
    fal: createFalQueueClient({
      baseUrl: config.FAL_BASE_URL,
      restBaseUrl: config.FAL_REST_URL,
      key: config.FAL_KEY,
    }),
    logger,
    now: Date.now,
    resilience: resilience.parts,
    ...(config.STATS_ENABLED ? { stats: createProviderStats(redis) } : {}),
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
  const webhookWorker = createWebhookWorker(
    {
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
    },
    { connection: redis, concurrency: config.WEBHOOK_CONCURRENCY },
  );
  const worker = createImageWorker(deps, {
    connection: redis,
    concurrency: config.WORKER_CONCURRENCY,
    lockDurationMs: config.WORKER_LOCK_DURATION_MS,
    stalledIntervalMs: config.WORKER_STALLED_INTERVAL_MS,
  });

  let closing: Promise<void> | undefined;
  let health: HealthServer | undefined;
  const shutdown = (signal: string) => {
    closing ??= (async () => {
      logger.info({ signal }, 'worker stopping: no new jobs, finishing in-flight ones');
      // Jobs still running at the deadline are handed back: their locks lapse and
      // another worker resumes them from the recorded fal request ids.
      const force = setTimeout(() => {
        void worker.close(true);
        void webhookWorker.close(true);
      }, config.WORKER_SHUTDOWN_TIMEOUT_MS);
      try {
        await Promise.all([worker.close(), webhookWorker.close()]);
        dispatcher.stop();
        sweeper?.stop();
        await webhooksQueue.close();
        await imagesQueue.close();
      } catch (err) {
        logger.error({ err }, 'worker close failed');
      } finally {
        clearTimeout(force);
      }
      await resilience.close().catch(() => {});
      await statusFeed.close().catch(() => {});
      await health?.close();
      try {
        await redis.quit();
      } catch {
        redis.disconnect();
      }
      logger.info('worker stopped');
    })();
    return closing;
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM').then(() => process.exit(0)));
  process.once('SIGINT', () => void shutdown('SIGINT').then(() => process.exit(0)));

  void worker.run();
  void webhookWorker.run();
  await Promise.all([worker.waitUntilReady(), webhookWorker.waitUntilReady()]);
  if (config.METRICS_PORT !== undefined) {
    health = await startHealthServer({
      port: config.METRICS_PORT,
      host: config.METRICS_HOST,
      // Not ready while stopping (a rolling update sends no work to it) or when Redis is gone.
      // BullMQ's connection queues commands while Redis is away: bound the ping.
      isReady: async () =>
        !closing &&
        worker.isRunning() &&
        (await Promise.race([redis.ping(), sleep(2_000).then(() => 'timeout')])) === 'PONG',
      ...(prometheus ? { metrics: prometheus.registry } : {}),
      ...(config.METRICS_TOKEN ? { metricsToken: config.METRICS_TOKEN } : {}),
    });
    logger.info(
      { port: health.port, metrics: Boolean(prometheus) },
      `health server listening (/healthz, /readyz${prometheus ? ', /metrics' : ''})`,
    );
  }
  logger.info(
    {
      concurrency: config.WORKER_CONCURRENCY,
      fal: config.FAL_BASE_URL,
      falMaxConcurrency: config.FAL_MAX_CONCURRENCY,
      falWebhooks: Boolean(config.FAL_WEBHOOK_URL),
    },
    'worker ready',
  );
  // A launcher that spawned us with an IPC channel (npm start, the test stack) waits for this,
  // not for the log line above, which LOG_LEVEL=warn silences.
  if (process.send) {
    process.send({ event: 'ready' });
    process.channel?.unref();
  }
}

main().catch((err: unknown) => {
  console.error(`fluxq worker failed to start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
