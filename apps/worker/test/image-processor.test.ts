import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { deliveryIdsFor } from '@fluxq/store';
import { DelayedError, UnrecoverableError } from 'bullmq';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startWorkerHarness, type WorkerHarness } from './harness/worker-harness.js';

/**
 * The `images` processor called by hand, one run at a time, on jobs taken off the queue
 * (no worker runs it): what one run leaves on the job, in BullMQ, in storage and at fal.
 */
describe('one run of the image processor', () => {
  let harness: WorkerHarness;
  const request = { model: 'flux.2-dev-turbo', prompt: 'a red kite', size: '512x512' };

  /** Submits, takes the job off the queue, runs the processor once; returns how the run ended. */
  const runOnce = async (options?: Parameters<WorkerHarness['submit']>[1]) => {
    const submitted = await harness.submit(request, options);
    const { job, token } = await harness.takeImageJob();
    expect(job.data.jobId).toBe(submitted.id);
    const outcome = await harness.processImageJob(job, token).then(
      () => 'done' as const,
      (err: unknown) => err,
    );
    const record = await harness.deps.images.store.get(submitted.id);
    const queued = await harness.deps.imagesQueue.getJob(job.id ?? '');
    const state = await queued?.getState();
    // A job put back is taken out, so the next test takes its own.
    if (state === 'delayed') await queued?.remove();
    return { outcome, record: record!, state };
  };

  beforeAll(async () => {
    harness = await startWorkerHarness({ env: { HEDGE_PRIORITIES: 'none', JOB_ATTEMPTS: '3' } });
  });
  afterAll(async () => {
    await harness?.close();
  });
  beforeEach(() => harness.sim.reset());

  it('runs a job to success: fal’s image copied into our storage, the job succeeded', async () => {
    const { outcome, record } = await runOnce();
    expect(outcome).toBe('done');
    expect(record).toMatchObject({ status: 'succeeded', attempts: 1, error: null });
    const [image] = record.output?.images ?? [];
    expect(image).toMatchObject({ width: 512, height: 512, content_type: 'image/png' });
    // On the local disk, where the API serves it from.
    const bytes = await readFile(join(harness.storageDir, image?.key ?? 'missing'));
    expect(bytes.length).toBe(image?.bytes);
    expect(bytes.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect(harness.sim.stats()).toMatchObject({ submits: 1, completed: 1 });
  });

  it('puts the job back in BullMQ after an attempt fal failed with a 5xx, the attempt logged', async () => {
    harness.sim.setFaults([{ on: 'outcome', status: 500 }]);
    const { outcome, record, state } = await runOnce();
    expect(outcome).toBeInstanceOf(DelayedError);
    expect(state).toBe('delayed');
    expect(record).toMatchObject({ status: 'running', attempts: 1, error: { code: 'provider_error' } });
    expect(record.attempt_log?.map((attempt) => [attempt.outcome, attempt.error_code])).toEqual([
      ['retried', 'provider_error'],
    ]);
  });

  it('fails the job for good when fal refuses the input, and queues its job.failed webhook', async () => {
    harness.sim.setFaults([{ on: 'outcome', status: 422 }]);
    const { outcome, record } = await runOnce({
      webhook: { url: 'http://127.0.0.1:9/hooks', events: ['job.failed'] },
    });
    expect(outcome).toBeInstanceOf(UnrecoverableError);
    expect(record).toMatchObject({ status: 'failed', error: { code: 'provider_validation_error' } });
    const delivery = await harness.deps.webhooks.deliveries.get(deliveryIdsFor(record.id, 'job.failed').id);
    expect(delivery).toMatchObject({ type: 'job.failed', status: 'pending' });
  });

  it('sends nothing to fal for a job canceled after a worker took it, before its run', async () => {
    const submitted = await harness.submit(request);
    const { job, token } = await harness.takeImageJob();
    expect(job.data.jobId).toBe(submitted.id);
    await harness.cancel(submitted.id);
    await harness.processImageJob(job, token);
    expect((await harness.deps.images.store.get(submitted.id))?.status).toBe('canceled');
    expect(harness.sim.stats().submits).toBe(0);
  });
});
