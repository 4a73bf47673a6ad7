import { QUEUE_PREFIX, WEBHOOKS_QUEUE, type WebhookJobData } from '@fluxq/queue';
import { type ConnectionOptions, Worker } from 'bullmq';
import { createWebhookProcessor, type WebhookProcessorDeps } from './webhook-processor.js';

/**
 * A BullMQ worker on the `webhooks` queue, apart from image work: a receiver that is
 * down or slow fills this queue's delayed set, never the image workers' slots.
 */
export function createWebhookWorker(
  deps: WebhookProcessorDeps,
  options: { connection: ConnectionOptions; concurrency: number },
): Worker<WebhookJobData> {
  const worker = new Worker<WebhookJobData>(WEBHOOKS_QUEUE, createWebhookProcessor(deps), {
    connection: options.connection,
    prefix: QUEUE_PREFIX,
    concurrency: options.concurrency,
    autorun: false,
  });
  worker.on('error', (err) => deps.logger.error({ err }, 'webhook worker error'));
  worker.on('failed', (job, err) =>
    deps.logger.error({ err, deliveryId: job?.data.deliveryId }, 'webhook delivery job failed'),
  );
  return worker;
}
