import { randomBytes } from 'node:crypto';
import { createFalWebhookVerifier } from '@fluxq/fal';
import { DEFAULT_INPUT_LIMITS } from '@fluxq/images';
import {
  createFalWebhookInbox,
  createImagesQueue,
  createJobEvents,
  createJobLifecycle,
  createRedis,
  createScheduledQueue,
  createScheduler,
  createWebhooksQueue,
  imageQueueOptionsOf,
  queueReady,
  waitForRedis,
  waitForReplica,
} from '@fluxq/queue';
import { createProviderStats } from '@fluxq/resilience';
import type { Logger } from '@fluxq/runtime';
import { createFileUrls, createUrlSigner, openStorage } from '@fluxq/storage';
import {
  createBatchStore,
  createJobStore,
  createRecords,
  createTenantJobIndex,
  createTenantQueueIndex,
  createWebhookDeliveryStore,
  createWebhookSettingsStore,
  QUEUED_ADD_MANY_COMMAND,
} from '@fluxq/store';
import { generateWebhookSecret } from '@fluxq/webhooks';
import type { ApiConfig } from './config.js';
import type { ApiDeps } from './deps.js';
import { createBatchCanceller } from './services/batch-cancel.js';
import { loadTenantRegistry } from './tenants/load-tenants.js';

/** Real dependencies from configuration; `close()` releases them. */
export async function buildApiDeps(
  config: ApiConfig,
  logger: Logger,
): Promise<ApiDeps & { close(): Promise<void> }> {
  // First of all: a missing bucket or refused credentials stop start-up with one line.
  const storage = await openStorage(config);
  // Request handlers share this connection: concurrent requests' commands go out one write a turn
  // (but a batch's queued-jobs entry, whose arguments grow with the batch).
  const redis = createRedis({
    url: config.REDIS_URL,
    role: 'api',
    name: 'fluxq-api',
    autoPipelining: true,
    notAutoPipelined: [QUEUED_ADD_MANY_COMMAND],
  });
  // BullMQ needs a blocking-capable connection of its own.
  const queueConnection = createRedis({ url: config.REDIS_URL, role: 'worker', name: 'fluxq-api-queue' });
  const queue = createImagesQueue(queueConnection, imageQueueOptionsOf(config));
  // Without an offline queue, commands sent while connecting fail: start serving once connected.
  const webhooksQueue = createWebhooksQueue(queueConnection);
  if (await waitForRedis(redis)) await Promise.all([queueReady(queue), queueReady(webhooksQueue)]);
  else logger.warn('Redis is not reachable yet: requests answer 503 until it is');
  let secret = config.FILES_SIGNING_SECRET;
  if (!secret && storage.driver === 'local') {
    logger.warn('FILES_SIGNING_SECRET is unset: file URLs will stop working when this process restarts');
  }
  // With S3 the store presigns the URLs; the HMAC signer then only refuses old /v1/files URLs.
  secret ??= randomBytes(32).toString('hex');
  const signer = createUrlSigner({ secret, baseUrl: config.PUBLIC_BASE_URL });
  const store = createJobStore(redis);
  // Pub/sub needs a connection of its own; it waits for Redis like a worker's.
  const subscriber = createRedis({ url: config.REDIS_URL, role: 'worker', name: 'fluxq-api-events' });
  const events = await createJobEvents(subscriber, store);
  // The limit is FAL_MAX_CONCURRENCY as the workers stored it: the API only queues and grants.
  // Its own connection, waiting for Redis as BullMQ's does, auto-pipelined: every request admits
  // and reads a place, so concurrent requests' script calls go out together.
  const schedulerConnection = createRedis({
    url: config.REDIS_URL,
    role: 'worker',
    name: 'fluxq-api-scheduler',
    autoPipelining: true,
  });
  const scheduler = createScheduler(schedulerConnection);
  const fair = createScheduledQueue(scheduler, queue);
  const deliveries = createWebhookDeliveryStore(redis);
  const batches = createBatchStore(redis);
  const base = {
    ping: async () => {
      await redis.ping();
    },
    waitForReplica: () => waitForReplica(redis),
    queued: createTenantQueueIndex(redis),
    jobIndex: createTenantJobIndex(redis),
    falWebhooks: createFalWebhookInbox(redis),
    providerStats: createProviderStats(redis, { now: Date.now }),
    records: createRecords(redis),
    events,
    queue,
    fair,
    scheduler,
    webhooks: {
      queue: webhooksQueue,
      deliveries,
      settings: createWebhookSettingsStore(redis, { generate: generateWebhookSecret }),
      allow: config.URL_ALLOW_LIST,
      secretOverlapMs: config.WEBHOOK_SECRET_OVERLAP_S * 1000,
    },
    store,
    batches,
    // The API's transitions are cancels; the worker's are the rest (packages/queue README, "Job lifecycle").
    lifecycle: createJobLifecycle({
      store,
      redis,
      webhooks: { queue: webhooksQueue, deliveries },
      batches,
      scheduler,
      images: { queue, fair },
      logger,
      now: Date.now,
    }),
    storage,
    signer,
    fileUrls: createFileUrls(storage, signer),
    logger,
    falWebhookVerifier: createFalWebhookVerifier({
      jwksUrl: config.FAL_JWKS_URL,
      onJwksError: (err) => logger.warn({ err, jwksUrl: config.FAL_JWKS_URL }, 'fal JWKS fetch failed'),
    }),
    tenants: await loadTenantRegistry(config),
    now: Date.now,
    settings: {
      fileUrlTtlS: config.FILE_URL_TTL_S,
      maxJsonBodyBytes: config.MAX_JSON_BODY_BYTES,
      allowHttpImageUrls: config.ALLOW_HTTP_IMAGE_URLS,
      inputLimits: DEFAULT_INPUT_LIMITS,
      maxUploadFileBytes: config.MAX_UPLOAD_FILE_BYTES,
      uploadTtlS: config.UPLOAD_TTL_S,
      idempotencyTtlS: config.IDEMPOTENCY_TTL_S,
      maxUploadFiles: config.MAX_UPLOAD_FILES,
      maxMultipartTotalBytes: config.MAX_MULTIPART_TOTAL_BYTES,
      syncWaitMaxS: config.SYNC_WAIT_MAX_S,
      falWebhookMaxBodyBytes: config.FAL_WEBHOOK_MAX_BODY_BYTES,
      maxBatchLineBytes: config.MAX_BATCH_LINE_BYTES,
      maxBatchFileBytes: config.MAX_BATCH_FILE_BYTES,
      metrics: {
        enabled: config.METRICS_ENABLED,
        tenantLabels: config.METRICS_TENANT_LABELS,
        ...(config.METRICS_TOKEN ? { token: config.METRICS_TOKEN } : {}),
      },
    },
  };
  const batchCanceller = createBatchCanceller(base);
  return {
    ...base,
    batchCanceller,
    async close() {
      await batchCanceller.close();
      await events.close();
      await queue.close().catch(() => {});
      await webhooksQueue.close().catch(() => {});
      for (const connection of [queueConnection, schedulerConnection, redis]) {
        await connection.quit().catch(() => connection.disconnect());
      }
    },
  };
}
