import { priceRequest } from '@fluxq/core';
import { createImagesQueue, createRedis, createScheduler, type ImagesQueue } from '@fluxq/queue';
import { makeImage, readServerSentEvents, waitFor } from '@fluxq/testing';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getJob, type Job, submitJob, waitForTerminal } from './jobs-client.js';
import { type Stack, startStack } from './stack.js';

/**
 * Cancel, event streams and uploads on the real processes. The stack starts with no
 * worker, so the first test's job can only ever be queued; the second test starts one.
 */
let stack: Stack;
let connection: Redis;
let queue: ImagesQueue;

beforeAll(async () => {
  stack = await startStack({ workers: 0 });
  connection = createRedis({ url: stack.redis.url, role: 'worker' });
  queue = createImagesQueue(connection);
});
afterAll(async () => {
  await queue?.close();
  await connection?.quit();
  await stack?.close();
});

const cancel = async (id: string): Promise<Job> => {
  const response = await fetch(`${stack.apiUrl}/v1/jobs/${id}/cancel`, { method: 'POST' });
  expect(response.status).toBe(200);
  return (await response.json()) as Job;
};

describe('jobs on the real processes', () => {
  let canceledWhileQueued: string;

  it('cancels a queued job: canceled at once, out of the scheduler’s order', async () => {
    const job = await submitJob(stack.apiUrl, { prompt: 'never runs' });
    expect(job.status).toBe('queued');
    // No worker has granted it a fal slot: it waits in line, not in BullMQ.
    const scheduler = createScheduler(connection);
    expect(await scheduler.place(job.id)).toMatchObject({ position: 0 });
    expect(await queue.getJob(job.id)).toBeUndefined();
    const canceled = await cancel(job.id);
    expect(canceled).toMatchObject({ status: 'canceled', error: { code: 'canceled' } });
    expect(await scheduler.place(job.id)).toBeNull();
    expect(await scheduler.waiting()).toBe(0);
    canceledWhileQueued = job.id;
  });

  it('streams queued, running and succeeded, then closes; the canceled job never reached fal', async () => {
    const job = await submitJob(stack.apiUrl, { prompt: 'a lighthouse', seed: 3 });
    const response = await fetch(`${stack.apiUrl}/v1/jobs/${job.id}/events`);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = readServerSentEvents(response.body!);
    const first = (await events.next()).value!;
    expect(first.event).toBe('job.queued');

    // Long enough at fal for `running` to be seen on its own.
    stack.sim.setFaults([{ on: 'outcome', delayMs: 300 }]);
    await stack.startWorker();
    const rest: Array<{ event: string; status: string }> = [];
    for await (const event of events)
      rest.push({ event: event.event, status: JSON.parse(event.data).status });
    expect(rest).toEqual([
      { event: 'job.running', status: 'running' },
      { event: 'job.succeeded', status: 'succeeded' },
    ]);
    expect((await getJob(stack.apiUrl, job.id)).status).toBe('succeeded');

    // The worker has run: the job canceled while queued was never picked up or submitted.
    expect(stack.sim.stats().submits).toBe(1);
    expect((await getJob(stack.apiUrl, canceledWhileQueued)).status).toBe('canceled');
  });

  it('cancels a running job: the worker cancels at fal and the job stays canceled', async () => {
    stack.sim.reset();
    // fal never finishes this one unless it is cancelled.
    stack.sim.setFaults([{ on: 'outcome', hang: true }]);
    const job = await submitJob(stack.apiUrl, { prompt: 'runs until canceled' });
    await waitFor(() => stack.sim.stats().inProgress === 1, { message: 'the request to run at fal' });
    expect((await getJob(stack.apiUrl, job.id)).status).toBe('running');

    const canceled = await cancel(job.id);
    expect(canceled.status).toBe('canceled');
    await waitFor(() => stack.sim.stats().cancels === 1, { message: 'fal to see a cancel' });
    // The worker let go of the job (it would still be polling fal if it had not cancelled).
    await waitFor(async () => (await queue.getJobState(job.id)) === 'completed', {
      message: 'the worker to finish with the job',
    });
    expect(stack.sim.stats()).toMatchObject({ completed: 0, failed: 1, inProgress: 0 });
    const final = await getJob(stack.apiUrl, job.id);
    expect(final).toMatchObject({ status: 'canceled', output: null, error: { code: 'canceled' } });
  });

  it('runs an edit from an upload, reading the uploaded file from storage', async () => {
    stack.sim.reset();
    const png = await makeImage({ width: 640, height: 480, format: 'png' });
    const form = new FormData();
    form.append('file', new Blob([png], { type: 'image/png' }), 'ref.png');
    const uploaded = (await (
      await fetch(`${stack.apiUrl}/v1/uploads`, { method: 'POST', body: form })
    ).json()) as {
      id: string;
    };
    expect(uploaded.id).toMatch(/^upl_/);
    const jobs = await Promise.all([
      submitJob(stack.apiUrl, { prompt: 'autumn', images: [uploaded.id], size: '1024x768' }),
      submitJob(stack.apiUrl, { prompt: 'winter', images: [uploaded.id], size: '1024x768' }),
    ]);
    for (const submitted of jobs) {
      const job = await waitForTerminal(stack.apiUrl, submitted.id);
      expect(job.status).toBe('succeeded');
      expect(job.output?.images[0]).toMatchObject({ width: 1024, height: 768 });
      expect(job.cost).toEqual(
        priceRequest({
          model: 'flux.2-dev-turbo',
          references: [{ width: 640, height: 480 }],
          output: { width: 1024, height: 768 },
          n: 1,
        }),
      );
    }
  });
});
