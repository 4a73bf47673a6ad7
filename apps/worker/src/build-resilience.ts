import {
  createFalCompletionListener,
  createGrantDispatcher,
  createGrantWaiter,
  createRedis,
  createScheduler,
  type ImagesQueue,
  type RedisClient,
  type Scheduler,
} from '@fluxq/queue';
import {
  type BreakerTransition,
  createBudget,
  createCircuitBreaker,
  createLatencyTracker,
  createTokenBudget,
} from '@fluxq/resilience';
import type { Logger } from '@fluxq/runtime';
import type { WorkerConfig } from './config.js';
import type { ResilienceParts } from './deps.js';
import { createFalCapacity, type JobCapacity } from './images/fal-capacity.js';

/** How long a slot lease lives without renewal; a dead worker's slots come back after it. */
const SLOT_LEASE_MS = 30_000;
/** How long a job's running lease (its tenant's max_running_jobs) lives without renewal. */
const TENANT_LEASE_MS = 60_000;

/** Builds the policy layer's shared parts on `redis`; `close` releases what they hold. */
export async function buildResilience(
  config: WorkerConfig,
  redis: RedisClient,
  /** Told of the breaker state changes this process makes (metrics). */
  onBreakerTransition: ((transition: BreakerTransition) => void) | undefined,
  /** Where granted jobs go (the `images` queue). */
  imagesQueue: ImagesQueue,
  logger: Logger,
): Promise<{ parts: ResilienceParts; scheduler: Scheduler; capacity: JobCapacity; close(): Promise<void> }> {
  // fal capacity is granted by the scheduler in Redis; its script also stores the limit for the API.
  const scheduler = createScheduler(redis, {
    limit: config.FAL_MAX_CONCURRENCY,
    slotLeaseMs: SLOT_LEASE_MS,
    tenantLeaseMs: TENANT_LEASE_MS,
  });
  const grantSubscriber = createRedis({ url: config.REDIS_URL, role: 'worker', name: 'fluxq-worker-grants' });
  const waiter = createGrantWaiter(grantSubscriber, scheduler);
  await waiter.ready();
  const fal = createFalCapacity(scheduler, waiter, createGrantDispatcher(scheduler, imagesQueue), {
    renewEveryMs: SLOT_LEASE_MS / 3,
    logger,
  });
  const slots = fal.slots;
  let subscriber: RedisClient | undefined;
  let completions: ResilienceParts['completions'] = null;
  if (config.FAL_WEBHOOK_URL) {
    subscriber = createRedis({ url: config.REDIS_URL, role: 'worker', name: 'fluxq-worker-fal-completions' });
    completions = createFalCompletionListener(subscriber);
    await completions.ready();
  }
  const parts: ResilienceParts = {
    latency: createLatencyTracker(redis, {
      priorScale: config.FAL_LATENCY_PRIOR_SCALE,
      flushEveryMs: config.FAL_LATENCY_FLUSH_MS,
      onFlushError: (err) =>
        logger.warn({ err }, 'could not write fal latency samples; kept for the next flush'),
    }),
    breaker: createCircuitBreaker(redis, {
      windowMs: config.BREAKER_WINDOW_MS,
      minRequests: config.BREAKER_MIN_REQUESTS,
      failureRatio: config.BREAKER_FAILURE_RATIO,
      streakToOpen: config.BREAKER_CONSECUTIVE_FAILURES,
      openMs: config.BREAKER_OPEN_MS,
      maxOpenMs: config.BREAKER_MAX_OPEN_MS,
      ...(onBreakerTransition ? { onTransition: onBreakerTransition } : {}),
    }),
    retryBudget: createBudget(redis, {
      name: 'retry',
      ratio: config.RETRY_BUDGET_RATIO,
      minPerWindow: config.RETRY_BUDGET_MIN,
      windowMs: config.RETRY_BUDGET_WINDOW_MS,
    }),
    hedgeBudget: createTokenBudget(redis, {
      // Not the retry budget's key: that one is a windowed hash, this one a token bucket.
      name: 'hedge-tokens',
      ratio: config.HEDGE_BUDGET_RATIO,
      floorPerWindow: config.HEDGE_BUDGET_MIN,
      windowMs: config.HEDGE_BUDGET_WINDOW_MS,
      capacity: config.HEDGE_BUDGET_BURST,
    }),
    slots,
    completions,
  };
  return {
    parts,
    scheduler,
    capacity: fal.jobs,
    async close() {
      fal.close();
      await parts.latency
        .close()
        .catch((err: unknown) => logger.warn({ err }, 'could not write fal latency samples'));
      await waiter.close();
      await completions?.close();
      subscriber?.disconnect();
    },
  };
}
