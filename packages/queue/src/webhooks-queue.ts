import type { JobRecord, WebhookEventType } from '@fluxq/core';
import {
  type BatchRecord,
  batchDeliveryIdsFor,
  deliveryIdsFor,
  viewBatch,
  type WebhookDelivery,
  type WebhookDeliveryStore,
} from '@fluxq/store';
import { type ConnectionOptions, Queue } from 'bullmq';
import { QUEUE_PREFIX, WEBHOOK_JOB_NAME, WEBHOOKS_QUEUE } from './names.js';

/** A `webhooks` queue job: which delivery to attempt. Retries are the processor's (the schedule). */
export interface WebhookJobData {
  deliveryId: string;
}

export type WebhooksQueue = Queue<WebhookJobData, void, typeof WEBHOOK_JOB_NAME>;

export function createWebhooksQueue(connection: ConnectionOptions): WebhooksQueue {
  return new Queue<WebhookJobData, void, typeof WEBHOOK_JOB_NAME>(WEBHOOKS_QUEUE, {
    connection,
    prefix: QUEUE_PREFIX,
    defaultJobOptions: {
      attempts: 1,
      // Kept a week so a second emit of the same event (after a crash) finds it and adds nothing.
      removeOnComplete: { age: 7 * 24 * 3_600 },
      removeOnFail: { age: 30 * 24 * 3_600 },
    },
  });
}

/** Queues an attempt at a delivery; `jobId` keeps one queued job per delivery (and per resend). */
export async function enqueueDelivery(queue: WebhooksQueue, deliveryId: string, resend = 0): Promise<void> {
  const jobId = resend === 0 ? deliveryId : `${deliveryId}-r${resend}`;
  await queue.add(WEBHOOK_JOB_NAME, { deliveryId }, { jobId });
}

export interface EventEmitterDeps {
  deliveries: WebhookDeliveryStore;
  queue: WebhooksQueue;
  now: () => number;
}

/**
 * Records the event `type` of a job for its webhook, if it asked for it, and queues its
 * delivery. Safe to call again for the same event (after a crash between the status
 * change and this call): the delivery and its queued job are keyed by job and event.
 */
export async function emitJobEvent(
  deps: EventEmitterDeps,
  record: JobRecord,
  type: WebhookEventType,
): Promise<void> {
  const webhook = record.webhook;
  if (!webhook?.events.includes(type)) return;
  await recordAndQueue(deps, {
    ...deliveryIdsFor(record.id, type),
    tenant: record.tenant,
    type,
    job_id: record.id,
    url: webhook.url,
    snapshot: record,
  });
}

/**
 * Records `batch.completed` for the batch's `webhook_url` (if it has one) and queues its
 * delivery. Call it only from the caller whose count finished the batch; calling it again
 * (after a crash) is still one delivery, keyed by batch and event.
 */
export async function emitBatchEvent(
  deps: EventEmitterDeps,
  batch: BatchRecord,
  type: Extract<WebhookEventType, 'batch.completed'> = 'batch.completed',
): Promise<void> {
  if (!batch.webhook_url) return;
  await recordAndQueue(deps, {
    ...batchDeliveryIdsFor(batch.id, type),
    tenant: batch.tenant,
    type,
    job_id: null,
    url: batch.webhook_url,
    snapshot: null,
    batch: viewBatch(batch),
  });
}

/** What differs between events; the rest of a new delivery is the same for all. */
type NewDelivery = Pick<WebhookDelivery, 'tenant' | 'type' | 'job_id' | 'url' | 'snapshot' | 'batch'> & {
  id: string;
  eventId: string;
};

/** Creates the delivery unless it exists (a repeated emit) and queues its first attempt. */
async function recordAndQueue(deps: EventEmitterDeps, event: NewDelivery): Promise<void> {
  const { eventId, ...fields } = event;
  const nowMs = deps.now();
  await deps.deliveries.createIfAbsent({
    ...fields,
    event_id: eventId,
    status: 'pending',
    attempts: [],
    created_at: Math.floor(nowMs / 1000),
    created_ms: nowMs,
    next_attempt_at: Math.floor(nowMs / 1000),
    completed_at: null,
    failure_reason: null,
    resends: 0,
    step: 0,
  });
  await enqueueDelivery(deps.queue, event.id);
}
