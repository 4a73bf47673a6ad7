import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ImageJobData, JobRecord, JobStatus, WebhookEventType } from '@fluxq/core';
import { createFalSim, type FalSim, type FalSimOptions } from '@fluxq/fal-sim';
import {
  createJobLifecycle,
  createScheduledQueue,
  createScheduler,
  emitJobEvent,
  IMAGES_QUEUE,
  QUEUE_PREFIX,
  WEBHOOKS_QUEUE,
  type WebhookJobData,
} from '@fluxq/queue';
import { createLogger } from '@fluxq/runtime';
import {
  assertNoSecretsIn,
  createSeededRandom,
  getFreePort,
  type RedisServer,
  startRedisServer,
  WELL_KNOWN_TEST_SECRETS,
} from '@fluxq/testing';
import { type Job, Worker } from 'bullmq';
import { buildWorkerDeps, type WorkerDeps } from '../../src/build-worker-deps.js';
import { loadWorkerConfig, SIMULATOR_KEY, type WorkerConfig } from '../../src/config.js';
import { createImageWorker } from '../../src/images/image-worker.js';
import { createImageProcessor } from '../../src/images/processor.js';
import { createWebhookProcessor } from '../../src/webhooks/webhook-processor.js';
import { createWebhookWorker } from '../../src/webhooks/webhook-worker.js';
import { type FalWebhookRelay, startFalWebhookRelay } from './fal-webhook-relay.js';
import { type SubmitOptions, submitGeneration } from './submit-job.js';

const SIGNING_SECRET = 'harness-signing-secret-harness-signing';
const TERMINAL: readonly JobStatus[] = ['succeeded', 'failed', 'canceled'];

export interface WorkerHarnessOptions {
  /** Worker environment on top of the harness's (loaded by the worker's own config schema). */
  env?: Record<string, string>;
  /**
   * The simulator's options. @defaultValue `{timeScale: 0, failureRate: 0, random: seeded(1)}`:
   * every request completes at once and never fails unless a fault rule says otherwise.
   */
  sim?: FalSimOptions;
  /**
   * fal reports completions by webhook: the simulator posts them to a relay that verifies and
   * publishes them as the API's `/fal/webhook` does (`FAL_WEBHOOK_URL` points at it). @defaultValue false
   */
  falWebhooks?: boolean;
}

/** A BullMQ job taken off a queue by hand, with the lock token its processor needs. */
export interface TakenJob<T> {
  job: Job<T>;
  token: string;
}

export interface WorkerHarness {
  sim: FalSim;
  redis: RedisServer;
  config: WorkerConfig;
  /** The worker's real dependencies, built by `buildWorkerDeps` as `main.ts` builds them. */
  deps: WorkerDeps;
  storageDir: string;
  /** The relay of fal's completion webhooks (with `falWebhooks`). */
  falWebhookRelay: FalWebhookRelay | undefined;
  /** The `images` processor on `deps.images`, to call on a job from `takeImageJob`. */
  processImageJob: ReturnType<typeof createImageProcessor>;
  /** The `webhooks` processor on `deps.webhooks`, to call on a job from `takeDeliveryJob`. */
  processDelivery: ReturnType<typeof createWebhookProcessor>;
  /** Accepts a generation as the API does; it reaches the `images` queue once granted a slot. */
  submit(request: Record<string, unknown>, options?: SubmitOptions): Promise<JobRecord>;
  /**
   * Cancels the job as the API's `POST /v1/jobs/{id}/cancel` does (the lifecycle's `cancel`): a
   * queued job no worker holds leaves BullMQ, a running one is stopped by its worker.
   */
  cancel(id: string): Promise<JobRecord>;
  /** Records a webhook event of the job and queues its delivery, as the lifecycle's transitions do. */
  emitEvent(record: JobRecord, type: WebhookEventType): Promise<void>;
  /**
   * Runs the real BullMQ workers on these processors, as `main.ts` does: both by default, or
   * only the one named (webhook tests emit events themselves, without image jobs running).
   */
  startWorkers(only?: 'images' | 'webhooks'): Promise<void>;
  /** Takes the next `images` job by hand (no worker runs it): for one processor call at a time. */
  takeImageJob(): Promise<TakenJob<ImageJobData>>;
  /** Takes the next `webhooks` job by hand. */
  takeDeliveryJob(): Promise<TakenJob<WebhookJobData>>;
  /** The job once its status is one of `statuses` (event-driven: the job store's status feed). */
  waitForJob(id: string, statuses?: readonly JobStatus[], timeoutMs?: number): Promise<JobRecord>;
  /** Every line the worker logged (JSON). */
  logs(): string[];
  /** Stops workers, dependencies, simulator, Redis; throws when a secret was logged. */
  close(): Promise<void>;
}

/**
 * The worker in this process on real parts: a private redis-server, the fal simulator (in
 * process, seeded), local-disk storage in a temp dir, and the dependencies `main.ts` builds.
 */
export async function startWorkerHarness(options: WorkerHarnessOptions = {}): Promise<WorkerHarness> {
  const redis = await startRedisServer();
  const sim = await createFalSim({
    timeScale: 0,
    failureRate: 0,
    random: createSeededRandom(1),
    ...options.sim,
  });
  const storageDir = await mkdtemp(join(tmpdir(), 'fluxq-worker-'));
  const relayPort = options.falWebhooks ? await getFreePort() : undefined;
  const config = loadWorkerConfig({
    REDIS_URL: redis.url,
    STORAGE_DIR: storageDir,
    FAL_BASE_URL: sim.url,
    FAL_POLL_INTERVAL_MS: '20',
    JOB_BACKOFF_MS: '20',
    // Webhook receivers listen on loopback; the SSRF guard refuses it otherwise.
    URL_ALLOW_LIST: '127.0.0.1',
    FILES_SIGNING_SECRET: SIGNING_SECRET,
    LOG_LEVEL: 'debug',
    ...(relayPort ? { FAL_WEBHOOK_URL: `http://127.0.0.1:${relayPort}/fal/webhook` } : {}),
    ...options.env,
  });
  const lines: string[] = [];
  const logger = createLogger({
    name: 'worker-test',
    level: config.LOG_LEVEL,
    destination: { write: (line: string) => void lines.push(line) },
  });
  const deps = await buildWorkerDeps(config, logger);
  const falWebhookRelay = relayPort
    ? await startFalWebhookRelay({
        port: relayPort,
        jwksUrl: `${sim.url}/.well-known/jwks.json`,
        redis: deps.redis,
      })
    : undefined;
  // The API's side of the job lifecycle, built as apps/api's build-deps builds it.
  const fair = createScheduledQueue(createScheduler(deps.redis), deps.imagesQueue);
  const webhookParts = { queue: deps.webhooksQueue, deliveries: deps.webhooks.deliveries };
  const api = {
    redis: deps.redis,
    fair,
    lifecycle: createJobLifecycle({
      store: deps.images.store,
      redis: deps.redis,
      webhooks: webhookParts,
      scheduler: createScheduler(deps.redis),
      images: { queue: deps.imagesQueue, fair },
      logger,
      now: Date.now,
    }),
  };
  const workers: Worker[] = [];
  /** Workers without a processor, for jobs taken by hand. */
  const manual = new Map<string, Worker>();
  const take = async <T>(queue: string): Promise<TakenJob<T>> => {
    let worker = manual.get(queue);
    if (!worker) {
      worker = new Worker(queue, null, { connection: deps.redis, prefix: QUEUE_PREFIX });
      manual.set(queue, worker);
    }
    const token = randomUUID();
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      // Blocks in Redis until a job arrives (or BullMQ's block timeout).
      const job = (await worker.getNextJob(token, { block: true })) as Job<T> | undefined;
      if (job) return { job, token };
    }
    throw new Error(`no ${queue} job arrived within 20 s`);
  };

  let closed: Promise<void> | undefined;
  return {
    sim,
    redis,
    config,
    deps,
    storageDir,
    falWebhookRelay,
    processImageJob: createImageProcessor(deps.images),
    processDelivery: createWebhookProcessor(deps.webhooks),
    submit: (request, submitOptions) => submitGeneration(api, request, submitOptions),
    async cancel(id) {
      const record = await deps.images.store.get(id);
      if (!record) throw new Error(`no job ${id}`);
      return api.lifecycle.cancel(record);
    },
    emitEvent: (record, type) => emitJobEvent({ ...webhookParts, now: Date.now }, record, type),
    async startWorkers(only) {
      if (workers.length > 0) throw new Error('the workers are already running');
      if (only !== 'images') {
        workers.push(
          createWebhookWorker(deps.webhooks, {
            connection: deps.redis,
            concurrency: config.WEBHOOK_CONCURRENCY,
          }),
        );
      }
      if (only !== 'webhooks') {
        workers.push(
          createImageWorker(deps.images, {
            connection: deps.redis,
            concurrency: config.WORKER_CONCURRENCY,
            lockDurationMs: config.WORKER_LOCK_DURATION_MS,
            stalledIntervalMs: config.WORKER_STALLED_INTERVAL_MS,
          }),
        );
      }
      for (const worker of workers) void worker.run();
      await Promise.all(workers.map((worker) => worker.waitUntilReady()));
    },
    takeImageJob: () => take<ImageJobData>(IMAGES_QUEUE),
    takeDeliveryJob: () => take<WebhookJobData>(WEBHOOKS_QUEUE),
    waitForJob: (id, statuses = TERMINAL, timeoutMs = 20_000) => waitForStatus(deps, id, statuses, timeoutMs),
    logs: () => [...lines],
    close() {
      closed ??= (async () => {
        await Promise.allSettled([...workers, ...manual.values()].map((worker) => worker.close(true)));
        await falWebhookRelay?.close();
        await deps.close();
        await sim.close();
        await redis.stop();
        await rm(storageDir, { recursive: true, force: true });
        assertNoSecretsIn('worker (in-process)', lines, [
          SIMULATOR_KEY,
          SIGNING_SECRET,
          ...WELL_KNOWN_TEST_SECRETS,
        ]);
      })();
      return closed;
    },
  };
}

/** Resolves with the record once the feed reports (or the store holds) one of `statuses`. */
async function waitForStatus(
  deps: WorkerDeps,
  id: string,
  statuses: readonly JobStatus[],
  timeoutMs: number,
): Promise<JobRecord> {
  const { store, statusFeed } = deps.images;
  if (!statusFeed) throw new Error('the harness needs the status feed');
  const reached = async () => {
    const record = await store.get(id);
    return record && statuses.includes(record.status) ? record : undefined;
  };
  let unsubscribe = () => {};
  let timer: NodeJS.Timeout | undefined;
  try {
    return await new Promise<JobRecord>((resolve, reject) => {
      const check = () =>
        void reached().then((record) => {
          if (record) resolve(record);
        }, reject);
      // Subscribed first, then read: a change between the two is not missed.
      unsubscribe = statusFeed.on(id, check);
      check();
      timer = setTimeout(() => {
        void store
          .get(id)
          .then((record) =>
            reject(
              new Error(
                `job ${id} did not reach ${statuses.join('|')} within ${timeoutMs} ms (status ${record?.status})`,
              ),
            ),
          );
      }, timeoutMs);
    });
  } finally {
    unsubscribe();
    clearTimeout(timer);
  }
}
