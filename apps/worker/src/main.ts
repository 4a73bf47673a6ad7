import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger } from '@fluxq/runtime';
import { buildWorkerDeps } from './build-worker-deps.js';
import { loadWorkerConfig } from './config.js';
import { type HealthServer, startHealthServer } from './health-server.js';
import { createImageWorker } from './images/image-worker.js';
import { createWebhookWorker } from './webhooks/webhook-worker.js';

/** Worker process entry: one BullMQ worker on `images`, stopped gracefully on SIGTERM/SIGINT. */
async function main(): Promise<void> {
  const config = loadWorkerConfig(process.env);
  const logger = createLogger({ name: 'worker', level: config.LOG_LEVEL });
  const deps = await buildWorkerDeps(config, logger);
  const { redis } = deps;
  const webhookWorker = createWebhookWorker(deps.webhooks, {
    connection: redis,
    concurrency: config.WEBHOOK_CONCURRENCY,
  });
  const worker = createImageWorker(deps.images, {
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
      } catch (err) {
        logger.error({ err }, 'worker close failed');
      } finally {
        clearTimeout(force);
      }
      await deps.close();
      await health?.close();
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
      ...(deps.metricsRegistry ? { metrics: deps.metricsRegistry } : {}),
      ...(config.METRICS_TOKEN ? { metricsToken: config.METRICS_TOKEN } : {}),
    });
    logger.info(
      { port: health.port, metrics: Boolean(deps.metricsRegistry) },
      `health server listening (/healthz, /readyz${deps.metricsRegistry ? ', /metrics' : ''})`,
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
