import { recordKeys } from '@fluxq/store';
import { waitFor } from '@fluxq/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startWorkerHarness, type WorkerHarness } from './harness/worker-harness.js';

/**
 * The wait on one fal request (`awaitFalRequest`), through the real processor: how a
 * completion is learnt (a fal webhook's wake-up, else a status poll) and what happens
 * when fal does not finish in time. No hedges here: one request per job.
 */
const job = { model: 'flux.2-dev-turbo', prompt: 'a lighthouse at dawn', priority: 'interactive' };

describe('waiting on a fal request', () => {
  describe('when fal reports completions by webhook', () => {
    let harness: WorkerHarness;
    beforeAll(async () => {
      harness = await startWorkerHarness({
        falWebhooks: true,
        env: {
          HEDGE_PRIORITIES: 'none',
          // The polling fallback is ten minutes away: only the webhook can end the wait in time.
          FAL_WEBHOOK_POLL_INTERVAL_MS: '600000',
        },
      });
      await harness.startWorkers();
    });
    afterAll(async () => {
      await harness?.close();
    });

    it('completes on the webhook wake-up: one status read before the wait, one after it', async () => {
      // Long enough that the first status read finds it running, even on a loaded machine.
      harness.sim.setFaults([{ on: 'outcome', delayMs: 1_500 }]);
      const done = await harness.waitForJob((await harness.submit(job)).id);

      expect(done.status).toBe('succeeded');
      const [request] = done.fal_requests;
      expect(harness.falWebhookRelay?.relayed).toEqual([{ requestId: request?.request_id, published: true }]);
      // In progress when first read; completed when read again after the wake-up; no poll between.
      expect(harness.sim.stats()).toMatchObject({ submits: 1, statusCalls: 2, webhookAttempts: 1 });
    });
  });

  describe('when fal sends no webhooks', () => {
    let harness: WorkerHarness;
    beforeAll(async () => {
      harness = await startWorkerHarness({ env: { HEDGE_PRIORITIES: 'none', FAL_POLL_INTERVAL_MS: '20' } });
      await harness.startWorkers();
    });
    afterAll(async () => {
      await harness?.close();
    });
    beforeEach(() => harness.sim.reset());

    it('completes by polling fal’s status until it says COMPLETED', async () => {
      harness.sim.setFaults([{ on: 'outcome', delayMs: 400 }]);
      const done = await harness.waitForJob((await harness.submit(job)).id);

      expect(done.status).toBe('succeeded');
      const stats = harness.sim.stats();
      expect(stats).toMatchObject({ submits: 1, webhookAttempts: 0, completed: 1 });
      // 400 ms at a 20 ms interval: polled many times, not once.
      expect(stats.statusCalls).toBeGreaterThan(3);
    });

    it('stops waiting when the job is canceled, and cancels its request at fal', async () => {
      harness.sim.setFaults([{ on: 'outcome', hang: true }]);
      const { id } = await harness.submit(job);
      await harness.waitForJob(id, ['running']);
      await harness.cancel(id);

      const done = await waitFor(
        async () => {
          const record = await harness.deps.images.store.get(id);
          return record?.attempt_log?.[0]?.outcome === 'canceled' ? record : undefined;
        },
        { message: 'the attempt to end canceled' },
      );
      expect(done.status).toBe('canceled');
      await waitFor(() => harness.sim.stats().inProgress === 0, { message: 'the request to end at fal' });
      expect(harness.sim.stats()).toMatchObject({ submits: 1, cancels: 1, completed: 0 });
    });

    it('notices a cancel at its next poll when the cancel event never reached the worker', async () => {
      harness.sim.setFaults([{ on: 'outcome', hang: true }]);
      const { id } = await harness.submit(job);
      await harness.waitForJob(id, ['running']);
      // The status as a cancel leaves it, written without its pub/sub event (a feed that lost
      // the message): only the wait loop's own status read can see it.
      const direct = new Redis(harness.redis.url);
      await direct.hset(recordKeys.job(id), 'status', JSON.stringify('canceled'));
      await direct.quit();

      const done = await waitFor(
        async () => {
          const record = await harness.deps.images.store.get(id);
          return record?.attempt_log?.[0]?.outcome === 'canceled' ? record : undefined;
        },
        { message: 'the attempt to end canceled' },
      );
      expect(done.status).toBe('canceled');
      await waitFor(() => harness.sim.stats().inProgress === 0, { message: 'the request to end at fal' });
      expect(harness.sim.stats()).toMatchObject({ submits: 1, cancels: 1, completed: 0 });
    });
  });

  describe('when fal does not finish within the attempt timeout', () => {
    let harness: WorkerHarness;
    beforeAll(async () => {
      harness = await startWorkerHarness({
        env: {
          HEDGE_PRIORITIES: 'none',
          FAL_ATTEMPT_TIMEOUT_MIN_MS: '300',
          FAL_ATTEMPT_TIMEOUT_MAX_MS: '300',
          JOB_ATTEMPTS: '2',
        },
      });
      await harness.startWorkers();
    });
    afterAll(async () => {
      await harness?.close();
    });
    beforeEach(() => harness.sim.reset());

    it('cancels the request at fal and retries the job with a new one', async () => {
      harness.sim.setFaults([{ on: 'outcome', hang: true }]);
      const done = await harness.waitForJob((await harness.submit(job)).id);

      expect(done.status).toBe('succeeded');
      expect(done.attempts).toBe(2);
      expect(harness.sim.stats()).toMatchObject({ submits: 2, cancels: 1, inProgress: 0 });
      expect(done.attempt_log?.map((attempt) => [attempt.outcome, attempt.error_code])).toEqual([
        ['retried', 'provider_timeout'],
        ['succeeded', null],
      ]);
      expect(done.attempt_log?.[0]?.requests).toEqual([expect.objectContaining({ outcome: 'canceled' })]);
    });

    it('fails the job with provider_timeout once its last attempt timed out', async () => {
      harness.sim.setFaults([{ on: 'outcome', hang: true, times: 2 }]);
      const done = await harness.waitForJob((await harness.submit(job)).id);

      expect(done.status).toBe('failed');
      expect(done.error?.code).toBe('provider_timeout');
      expect(done.attempts).toBe(2);
      // Every timed-out request was cancelled at fal: none is left running there.
      expect(harness.sim.stats()).toMatchObject({ submits: 2, cancels: 2, inProgress: 0 });
    });
  });
});
