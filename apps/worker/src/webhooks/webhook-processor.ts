import { unixSeconds, type ViewContext, viewJob } from '@fluxq/core';
import type { WebhookJobData } from '@fluxq/queue';
import type { Logger } from '@fluxq/runtime';
import type {
  DeliveryPatch,
  WebhookDelivery,
  WebhookDeliveryStore,
  WebhookSettingsStore,
} from '@fluxq/store';
import { attemptDelivery, nextDeliveryDelayMs, signedHeaders } from '@fluxq/webhooks';
import { DelayedError, type Job } from 'bullmq';
import { metricsOf } from '../metrics/metrics-of.js';
import type { WorkerMetrics } from '../metrics/worker-metrics.js';

/** Everything a delivery attempt talks to. */
export interface WebhookProcessorDeps {
  deliveries: WebhookDeliveryStore;
  settings: WebhookSettingsStore;
  /** Renders the job snapshot with freshly signed file URLs at every attempt. */
  view: ViewContext;
  logger: Logger;
  now: () => number;
  /** Delivery attempts by outcome; unset = none. */
  metrics?: WorkerMetrics;
  delivery: {
    /** Hosts, IPs or CIDRs that may be reached although private (local development, tests). */
    allow: readonly string[];
    timeoutMs: number;
    /** Multiplies the retry schedule (5 s … 10 h); tests run it in seconds. */
    scheduleScale: number;
  };
}

/** The Standard Webhooks body: `{type, timestamp, data}` with the job as the API shows it. */
export async function eventBody(delivery: WebhookDelivery, view: ViewContext): Promise<string> {
  return JSON.stringify({
    type: delivery.type,
    timestamp: new Date(delivery.created_ms).toISOString(),
    // `batch.completed` carries the batch object; job events the job, with fresh file URLs.
    data: delivery.batch ?? (delivery.snapshot ? await viewJob(delivery.snapshot, view) : null),
  });
}

/**
 * The BullMQ processor of the `webhooks` queue: one attempt at one delivery per run.
 * 2xx delivers; 410 disables the endpoint for the tenant; an address the SSRF guard
 * refuses fails at once; anything else is retried on the schedule (Retry-After
 * honoured) by moving the job back to delayed, until the schedule is spent. The job's
 * own status is never touched here.
 */
export function createWebhookProcessor(deps: WebhookProcessorDeps) {
  const metrics = metricsOf(deps);
  return async function processDelivery(job: Job<WebhookJobData>, token?: string): Promise<void> {
    const delivery = await deps.deliveries.get(job.data.deliveryId);
    if (delivery?.status !== 'pending') return;
    const log = deps.logger.child({ deliveryId: delivery.id, type: delivery.type, jobId: delivery.job_id });
    const stop = (patch: DeliveryPatch) =>
      deps.deliveries.update(delivery.id, {
        next_attempt_at: null,
        completed_at: unixSeconds(deps.now()),
        ...patch,
      });

    if (await deps.settings.isDisabled(delivery.tenant, delivery.url)) {
      await stop({
        status: 'failed',
        failure_reason: 'the endpoint is disabled (it answered 410 Gone); enable it to send again',
      });
      metrics.webhookAttempt('disabled');
      return;
    }

    const body = await eventBody(delivery, deps.view);
    const secrets = await deps.settings.signingSecrets(delivery.tenant);
    const startedMs = deps.now();
    const outcome = await attemptDelivery({
      url: delivery.url,
      allow: deps.delivery.allow,
      timeoutMs: deps.delivery.timeoutMs,
      body,
      headers: {
        'content-type': 'application/json',
        'user-agent': 'fluxq-webhooks',
        ...signedHeaders({ id: delivery.event_id, timestampS: unixSeconds(startedMs), body, secrets }),
      },
    });
    const attempt = {
      at: unixSeconds(startedMs),
      status_code: outcome.status ?? null,
      error: outcome.kind === 'delivered' ? null : (outcome.error ?? null),
      duration_ms: outcome.durationMs,
    };
    const finished = {
      next_attempt_at: null,
      completed_at: unixSeconds(deps.now()),
      step: delivery.step + 1,
    };

    if (outcome.kind === 'delivered') {
      await deps.deliveries.recordAttempt(delivery.id, attempt, {
        ...finished,
        status: 'delivered',
        failure_reason: null,
      });
      metrics.webhookAttempt('delivered');
      log.debug({ status: outcome.status }, 'webhook delivered');
      return;
    }
    if (outcome.kind === 'gone') {
      await deps.settings.disable(delivery.tenant, delivery.url, '410 Gone');
      await deps.deliveries.recordAttempt(delivery.id, attempt, {
        ...finished,
        status: 'failed',
        failure_reason: 'the endpoint answered 410 Gone: disabled for this tenant until enabled again',
      });
      // The URL is not logged: customers put tokens in webhook URLs.
      metrics.webhookAttempt('gone');
      log.warn('webhook endpoint answered 410: disabled');
      return;
    }
    if (outcome.kind === 'blocked') {
      await deps.deliveries.recordAttempt(delivery.id, attempt, {
        ...finished,
        status: 'failed',
        failure_reason: `the URL is not allowed: ${outcome.reason}`,
      });
      metrics.webhookAttempt('blocked');
      log.warn({ reason: outcome.reason }, 'webhook URL refused by the SSRF guard');
      return;
    }

    const delayMs = nextDeliveryDelayMs(delivery.step + 1, {
      scale: deps.delivery.scheduleScale,
      retryAfterMs: outcome.retryAfterMs,
    });
    if (delayMs === undefined) {
      await deps.deliveries.recordAttempt(delivery.id, attempt, {
        ...finished,
        status: 'failed',
        failure_reason: `no success after ${delivery.step + 1} attempts; resend it when the endpoint is back`,
      });
      metrics.webhookAttempt('failed');
      log.warn({ attempts: delivery.step + 1 }, 'webhook delivery failed for good');
      return;
    }
    const dueMs = deps.now() + delayMs;
    await deps.deliveries.recordAttempt(delivery.id, attempt, {
      next_attempt_at: unixSeconds(dueMs),
      step: delivery.step + 1,
    });
    metrics.webhookAttempt('retrying');
    log.debug({ status: outcome.status, error: outcome.error, delayMs }, 'webhook attempt failed; retrying');
    await job.moveToDelayed(dueMs, token);
    throw new DelayedError();
  };
}
