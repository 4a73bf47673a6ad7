import type { JobRecord, WebhookEventType } from '@fluxq/core';
import { deliveryIdsFor } from '@fluxq/store';
import { type ReceivedRequest, startWebhookReceiver, type WebhookReceiver, waitFor } from '@fluxq/testing';
import { DELIVERY_MAX_ATTEMPTS } from '@fluxq/webhooks';
import { DelayedError } from 'bullmq';
import { Webhook } from 'standardwebhooks';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startWorkerHarness, type WorkerHarness } from './harness/worker-harness.js';

/**
 * The `webhooks` processor (`createWebhookProcessor`) delivering to a real HTTP receiver on
 * 127.0.0.1. Events are emitted as the job lifecycle emits them (`harness.emitEvent`),
 * for jobs accepted as the API accepts them; no image job runs here.
 */
const EVENTS: WebhookEventType[] = ['job.succeeded', 'job.failed'];

/** A job of tenant-a whose events go to `url`. */
const submitWithWebhook = (harness: WorkerHarness, url: string) =>
  harness.submit({ prompt: 'a red kite' }, { webhook: { url, events: EVENTS } });

/** Verifies a request with the Standard Webhooks reference library and the tenant's secret. */
async function verifiedBody(harness: WorkerHarness, request: ReceivedRequest) {
  const { secret } = await harness.deps.webhooks.settings.secret('tenant-a');
  return new Webhook(secret).verify(request.body, request.headers) as {
    type: string;
    data: { id: string; object: string };
  };
}

const deliveryOf = async (harness: WorkerHarness, record: JobRecord, type: WebhookEventType) =>
  harness.deps.webhooks.deliveries.get(deliveryIdsFor(record.id, type).id);

/** The delivery once it is no longer pending (delivered or failed). */
const settledDelivery = (harness: WorkerHarness, record: JobRecord, type: WebhookEventType) =>
  waitFor(
    async () => {
      const delivery = await deliveryOf(harness, record, type);
      return delivery?.status === 'pending' ? undefined : delivery;
    },
    { timeoutMs: 20_000, message: `the ${type} delivery of ${record.id} to settle` },
  );

describe('delivering webhooks', () => {
  let harness: WorkerHarness;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    // The schedule in milliseconds: 5 ms, 300 ms, 1.8 s, …
    harness = await startWorkerHarness({ env: { WEBHOOK_SCHEDULE_SCALE: '0.001' } });
    await harness.startWorkers('webhooks');
  });
  afterAll(async () => {
    await harness?.close();
  });
  beforeEach(async () => {
    receiver = await startWebhookReceiver();
  });
  afterEach(async () => {
    await receiver.stop();
  });

  it('delivers the event signed as Standard Webhooks say, with the job as the API shows it', async () => {
    const record = await submitWithWebhook(harness, `${receiver.url}/hooks`);
    await harness.emitEvent(record, 'job.succeeded');

    const [request] = await receiver.waitForRequests(1);
    const body = await verifiedBody(harness, request!);
    expect(body).toMatchObject({ type: 'job.succeeded', data: { id: record.id, object: 'job' } });
    expect(request?.headers['webhook-id']).toBe(deliveryIdsFor(record.id, 'job.succeeded').eventId);
    const delivery = await settledDelivery(harness, record, 'job.succeeded');
    expect(delivery).toMatchObject({ status: 'delivered', step: 1 });
    expect(delivery.attempts.map((attempt) => attempt.status_code)).toEqual([200]);
  });

  it('retries a 5xx on the schedule until the receiver answers 2xx, under the same webhook-id', async () => {
    receiver.respondWith({ status: 500 }, { status: 503 });
    const record = await submitWithWebhook(harness, `${receiver.url}/hooks`);
    await harness.emitEvent(record, 'job.succeeded');

    const requests = await receiver.waitForRequests(3);
    const delivery = await settledDelivery(harness, record, 'job.succeeded');
    expect(delivery).toMatchObject({ status: 'delivered', step: 3 });
    expect(delivery.attempts.map((attempt) => attempt.status_code)).toEqual([500, 503, 200]);
    // One event id for every attempt (the receiver's idempotency key), each signed afresh.
    expect(new Set(requests.map((r) => r.headers['webhook-id']))).toEqual(new Set([delivery.event_id]));
    for (const request of requests) expect((await verifiedBody(harness, request)).data.id).toBe(record.id);
  });

  it('disables an endpoint that answers 410 and sends it nothing more', async () => {
    receiver.respondWith({ status: 410 });
    const url = `${receiver.url}/gone`;
    const first = await submitWithWebhook(harness, url);
    await harness.emitEvent(first, 'job.succeeded');
    expect(await settledDelivery(harness, first, 'job.succeeded')).toMatchObject({
      status: 'failed',
      attempts: [expect.objectContaining({ status_code: 410 })],
    });
    expect(await harness.deps.webhooks.settings.isDisabled('tenant-a', url)).toBe(true);

    const second = await submitWithWebhook(harness, url);
    await harness.emitEvent(second, 'job.failed');
    const skipped = await settledDelivery(harness, second, 'job.failed');
    expect(skipped).toMatchObject({ status: 'failed', attempts: [] });
    expect(skipped.failure_reason).toMatch(/disabled/);
    expect(receiver.requests).toHaveLength(1);
  });

  it('delivers an event emitted twice once: its ids derive from the job and the event', async () => {
    const record = await submitWithWebhook(harness, `${receiver.url}/hooks`);
    await harness.emitEvent(record, 'job.succeeded');
    await harness.emitEvent(record, 'job.succeeded');
    await settledDelivery(harness, record, 'job.succeeded');
    // A later event of the same job: by the time it is delivered, a second copy of the first
    // (queued before it) would have been sent too.
    await harness.emitEvent(record, 'job.failed');
    await settledDelivery(harness, record, 'job.failed');

    expect(receiver.requests.map((r) => r.headers['webhook-id'])).toEqual([
      deliveryIdsFor(record.id, 'job.succeeded').eventId,
      deliveryIdsFor(record.id, 'job.failed').eventId,
    ]);
    const listed = await harness.deps.webhooks.deliveries.list({
      tenant: 'tenant-a',
      jobId: record.id,
      limit: 10,
    });
    expect(listed.data).toHaveLength(2);
  });
});

/**
 * One attempt at a time, by hand (no worker runs the queue), with the schedule at its real
 * scale: where each failed attempt puts the next one.
 */
describe('the delivery retry schedule', () => {
  let harness: WorkerHarness;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    harness = await startWorkerHarness({ env: { WEBHOOK_SCHEDULE_SCALE: '1' } });
    receiver = await startWebhookReceiver();
  });
  afterAll(async () => {
    await receiver?.stop();
    await harness?.close();
  });

  /** Emits a delivery, takes its job off the queue and runs one attempt; returns the delivery after it. */
  const attemptOnce = async (setup?: (record: JobRecord) => Promise<void>) => {
    const record = await submitWithWebhook(harness, `${receiver.url}/hooks`);
    await setup?.(record);
    await harness.emitEvent(record, 'job.succeeded');
    const { job, token } = await harness.takeDeliveryJob();
    const outcome = await harness.processDelivery(job, token).then(
      () => 'done' as const,
      (err: unknown) => err,
    );
    const delivery = await deliveryOf(harness, record, 'job.succeeded');
    const queued = await harness.deps.webhooksQueue.getJob(job.id ?? '');
    const state = await queued?.getState();
    // Finished as a worker would finish it, and a delayed one out of the way of the next
    // test's `takeDeliveryJob`, however slow this machine is.
    if (outcome === 'done') await job.moveToCompleted(undefined, token, false);
    else await queued?.remove();
    return { outcome, delivery: delivery!, state };
  };

  it('puts the next attempt about 5 s after a first attempt that got a 5xx', async () => {
    receiver.respondWith({ status: 500 });
    const { outcome, delivery, state } = await attemptOnce();
    expect(outcome).toBeInstanceOf(DelayedError);
    expect(state).toBe('delayed');
    expect(delivery).toMatchObject({ status: 'pending', step: 1 });
    const [attempt] = delivery.attempts;
    expect(attempt?.status_code).toBe(500);
    // 5 s ± 20 %, in whole seconds.
    const waitS = (delivery.next_attempt_at ?? 0) - (attempt?.at ?? 0);
    expect(waitS).toBeGreaterThanOrEqual(3);
    expect(waitS).toBeLessThanOrEqual(7);
  });

  it('honours the receiver’s Retry-After, up to four times the scheduled delay', async () => {
    receiver.respondWith({ status: 503, headers: { 'retry-after': '3600' } });
    const { delivery } = await attemptOnce();
    const waitS = (delivery.next_attempt_at ?? 0) - (delivery.attempts[0]?.at ?? 0);
    // 4 × 5 s, not an hour.
    expect(waitS).toBeGreaterThanOrEqual(19);
    expect(waitS).toBeLessThanOrEqual(21);
  });

  it('gives the delivery up after its last scheduled attempt', async () => {
    receiver.respondWith({ status: 500 });
    const { outcome, delivery } = await attemptOnce(async (record) => {
      // As if the seven earlier attempts had failed already (the delivery is created below).
      await harness.emitEvent(record, 'job.succeeded');
      await harness.deps.webhooks.deliveries.update(deliveryIdsFor(record.id, 'job.succeeded').id, {
        step: DELIVERY_MAX_ATTEMPTS - 1,
      });
    });
    expect(outcome).toBe('done');
    expect(delivery).toMatchObject({ status: 'failed', step: DELIVERY_MAX_ATTEMPTS, next_attempt_at: null });
    expect(delivery.failure_reason).toMatch(`no success after ${DELIVERY_MAX_ATTEMPTS} attempts`);
  });
});
