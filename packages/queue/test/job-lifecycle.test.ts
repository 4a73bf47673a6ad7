import { type JobRecord, newId, newJobRecord, type WebhookEventType } from '@fluxq/core';
import { createLogger } from '@fluxq/runtime';
import {
  type BatchStore,
  createBatchStore,
  createJobStore,
  createWebhookDeliveryStore,
  type JobStore,
  markQueued,
  queuedJobs,
  type WebhookDeliveryStore,
} from '@fluxq/store';
import { redisForTests, type TestRedis } from '@fluxq/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createImagesQueue,
  createJobLifecycle,
  createScheduledQueue,
  createScheduler,
  createWebhooksQueue,
  type FairQueue,
  fairEntryOf,
  type ImagesQueue,
  type JobEnd,
  type JobLifecycle,
  type Scheduler,
  type WebhooksQueue,
} from '../src/index.js';

/**
 * The job lifecycle on a real Redis: each transition does every one of its side effects, once
 * (status, queued index, scheduler order and slot, BullMQ, batch count, webhook event, the
 * process's report), and of two racing transitions exactly one applies.
 */
let server: TestRedis;
let redis: Redis;
let queue: ImagesQueue;
let webhooksQueue: WebhooksQueue;
let store: JobStore;
let batches: BatchStore;
let deliveries: WebhookDeliveryStore;
let scheduler: Scheduler;
let fair: FairQueue;
let lifecycle: JobLifecycle;
let ended: Array<{ id: string; end: JobEnd }>;
const TENANT = 'acme';
const EVENTS: WebhookEventType[] = ['job.started', 'job.succeeded', 'job.failed', 'job.canceled'];

beforeAll(async () => {
  server = await redisForTests();
  redis = new Redis(server.url, { maxRetriesPerRequest: null });
  queue = createImagesQueue(redis);
  webhooksQueue = createWebhooksQueue(redis);
  store = createJobStore(redis);
  batches = createBatchStore(redis);
  deliveries = createWebhookDeliveryStore(redis);
});

afterAll(async () => {
  await queue?.close();
  await webhooksQueue?.close();
  await redis?.quit();
  await server?.stop();
});

beforeEach(async () => {
  await redis.flushall();
  // One fal slot: the second job waits for the first one's.
  scheduler = createScheduler(redis, { limit: 1 });
  fair = createScheduledQueue(scheduler, queue);
  ended = [];
  lifecycle = createJobLifecycle({
    store,
    redis,
    webhooks: { queue: webhooksQueue, deliveries },
    batches,
    scheduler,
    images: { queue, fair },
    logger: createLogger({ name: 'lifecycle-test', level: 'silent' }),
    now: Date.now,
    onEnded: async (record, end) => {
      ended.push({ id: record.id, end });
    },
  });
});

/** A batch of `count` jobs, accepted as the API accepts them: records, queued index, scheduler order. */
async function acceptBatch(count: number): Promise<{ batchId: string; jobs: JobRecord[] }> {
  const nowMs = Date.now();
  const batchId = newId('batch', nowMs);
  const jobs = Array.from({ length: count }, () =>
    newJobRecord({
      id: newId('job', nowMs),
      tenant: TENANT,
      model: 'flux.2-dev-turbo',
      operation: 'edit',
      priority: 'default',
      input: {
        prompt: 'a lighthouse',
        images: [],
        size: '1024x1024',
        width: 1024,
        height: 1024,
        size_rule: { kind: 'fixed' },
        n: 1,
        seed: 1,
        response_format: 'url',
        output_format: 'png',
        output_compression: null,
        guidance_scale: null,
        enable_prompt_expansion: null,
        enable_safety_checker: null,
        passthrough: {},
      } as unknown as JobRecord['input'],
      batchId,
      metadata: {},
      webhook: { url: 'https://hooks.example.com/fluxq', events: EVENTS },
      cost: { megapixels: 1, usd: 0.01 },
      createdMs: nowMs,
    }),
  );
  await batches.create(
    {
      id: batchId,
      tenant: TENANT,
      status: 'in_progress',
      priority: 'default',
      total: count,
      succeeded: 0,
      failed: 0,
      canceled: 0,
      cost_micros: 0,
      created_at: Math.floor(nowMs / 1000),
      completed_at: null,
      created_ms: nowMs,
      metadata: {},
      webhook_url: 'https://hooks.example.com/batches',
    },
    jobs.map((job, index) => ({ jobId: job.id, customId: `line-${index}` })),
  );
  // The queued-jobs limit's place first, as the API takes it; then the lifecycle creates them.
  for (const job of jobs) await markQueued(redis, TENANT, job.id, nowMs);
  await lifecycle.create(jobs, (job) => fairEntryOf(job, { maxRunningJobs: null }));
  return { batchId, jobs };
}

/**
 * A lifecycle whose images queue's connection is gone: BullMQ refuses the jobs the scheduler
 * hands it (prefetched behind the one holding the slot), so an admit fails after tickets went in.
 */
async function lifecycleWithClosedQueue() {
  const gone = new Redis(server.url, { maxRetriesPerRequest: null });
  const closedQueue = createImagesQueue(gone);
  await closedQueue.waitUntilReady();
  gone.disconnect();
  const failing = createJobLifecycle({
    store,
    redis,
    webhooks: { queue: webhooksQueue, deliveries },
    scheduler,
    images: { queue, fair: createScheduledQueue(scheduler, closedQueue) },
    logger: createLogger({ name: 'lifecycle-test', level: 'silent' }),
    now: Date.now,
  });
  return { failing, closedQueue };
}

/** The webhook event types recorded for a job, in no particular order. */
async function eventsOf(jobId: string): Promise<string[]> {
  const { data } = await deliveries.list({ tenant: TENANT, jobId, limit: 100 });
  return data.map((delivery) => delivery.type).sort();
}

async function batchEvents(): Promise<number> {
  const { data } = await deliveries.list({ tenant: TENANT, limit: 100 });
  return data.filter((delivery) => delivery.type === 'batch.completed').length;
}

const counts = async (batchId: string) => {
  const batch = await batches.get(batchId);
  return {
    status: batch?.status,
    succeeded: batch?.succeeded,
    failed: batch?.failed,
    canceled: batch?.canceled,
  };
};
const isQueuedIndexed = async (jobId: string) =>
  (await queuedJobs(redis, TENANT)).some((entry) => entry.jobId === jobId);
const inBullMq = async (jobId: string) => (await queue.getJob(jobId)) !== undefined;

describe('the job lifecycle', () => {
  it('create: records stored, tickets in order; the granted one in BullMQ, the others waiting', async () => {
    const { jobs } = await acceptBatch(3);
    const stored = await store.getMany(jobs.map((job) => job.id));
    expect(stored.map((record) => record?.status)).toEqual(['queued', 'queued', 'queued']);
    expect(await scheduler.holds(jobs[0]!.id)).toBe(true);
    expect(await inBullMq(jobs[0]!.id)).toBe(true);
    expect(await scheduler.isWaiting(jobs[1]!.id)).toBe(true);
    expect(await scheduler.isWaiting(jobs[2]!.id)).toBe(true);
    expect((await scheduler.place(jobs[2]!.id))?.position).toBe(1);
  });

  it('create that cannot be admitted leaves no record and no ticket', async () => {
    const { jobs } = await acceptBatch(1);
    const { failing, closedQueue } = await lifecycleWithClosedQueue();
    const fresh = { ...jobs[0]!, id: newId('job') };
    await expect(
      failing.create([fresh], (job) => fairEntryOf(job, { maxRunningJobs: null })),
    ).rejects.toThrow();
    expect(await store.get(fresh.id)).toBeUndefined();
    expect(await scheduler.isWaiting(fresh.id)).toBe(false);
    expect(await scheduler.holds(fresh.id)).toBe(false);
    expect(await inBullMq(fresh.id)).toBe(false);
    await closedQueue.close().catch(() => {});
  });

  it('a batch of several chunks that cannot be admitted leaves none of its records or tickets', async () => {
    const { jobs } = await acceptBatch(1);
    const { failing, closedQueue } = await lifecycleWithClosedQueue();
    // 2,500 jobs: records go in chunks of 1,000, each chunk admitted while the next is written.
    const batch = Array.from({ length: 2_500 }, () => ({ ...jobs[0]!, id: newId('job') }));
    await expect(
      failing.create(batch, (job) => fairEntryOf(job, { maxRunningJobs: null })),
    ).rejects.toThrow();
    const ids = batch.map((job) => job.id);
    expect((await store.getMany(ids)).filter(Boolean)).toEqual([]);
    expect(await scheduler.waiting()).toBe(0);
    for (const id of [ids[0]!, ids[999]!, ids[1_000]!, ids[2_499]!]) {
      expect(await scheduler.holds(id)).toBe(false);
      expect(await inBullMq(id)).toBe(false);
    }
    await closedQueue.close().catch(() => {});
  });

  it('start: queued → running once, out of the queued index, one job.started', async () => {
    const { jobs } = await acceptBatch(1);
    const job = jobs[0]!;
    expect(await isQueuedIndexed(job.id)).toBe(true);
    expect(await lifecycle.start({ ...job })).toBe(true);
    expect(await lifecycle.start({ ...job })).toBe(false);
    expect((await store.get(job.id))?.status).toBe('running');
    expect((await store.get(job.id))?.started_at).not.toBeNull();
    expect(await isQueuedIndexed(job.id)).toBe(false);
    expect(await eventsOf(job.id)).toEqual(['job.started']);
  });

  it('start with fields: written in the same update; not written when the job was not queued', async () => {
    const { jobs } = await acceptBatch(1);
    const job = jobs[0]!;
    const ref = {
      endpoint: 'fal-ai/x',
      request_id: 'req-1',
      chunk: 0,
      num_images: 1,
      seed: 1,
      submitted_at: 1,
    };
    expect(await lifecycle.start({ ...job }, { fal_requests: [ref] })).toBe(true);
    expect(await store.get(job.id)).toMatchObject({ status: 'running', fal_requests: [ref] });
    expect(await lifecycle.start({ ...job }, { fal_requests: [] })).toBe(false);
    expect((await store.get(job.id))?.fal_requests).toEqual([ref]);
    expect(await eventsOf(job.id)).toEqual(['job.started']);
  });

  it('succeed: counted in its batch once, one job.succeeded, reported once; a second succeed does nothing', async () => {
    const { batchId, jobs } = await acceptBatch(1);
    const job = jobs[0]!;
    await lifecycle.start(job);
    const output = { images: [] } as unknown as JobRecord['output'];
    expect(await lifecycle.succeed(job, Date.now(), { output })).toBe(true);
    expect(await lifecycle.succeed(job, Date.now(), { output })).toBe(false);
    expect((await store.get(job.id))?.status).toBe('succeeded');
    expect(await counts(batchId)).toEqual({ status: 'completed', succeeded: 1, failed: 0, canceled: 0 });
    expect(await eventsOf(job.id)).toEqual(['job.started', 'job.succeeded']);
    expect(await batchEvents()).toBe(1);
    expect(ended).toEqual([{ id: job.id, end: expect.objectContaining({ status: 'succeeded' }) }]);
  });

  it('a job in no batch and without a webhook: started and succeeded without reading its record back', async () => {
    const { jobs } = await acceptBatch(1);
    const job: JobRecord = { ...jobs[0]!, id: newId('job'), batch_id: null, webhook: null };
    await store.create(job);
    const hgetalls = async () =>
      Number(/cmdstat_hgetall:calls=(\d+)/.exec(await redis.info('commandstats'))?.[1] ?? 0);
    const before = await hgetalls();
    expect(await lifecycle.start(job)).toBe(true);
    const output = { images: [] } as unknown as JobRecord['output'];
    expect(await lifecycle.succeed(job, Date.now(), { output })).toBe(true);
    expect(await hgetalls()).toBe(before);
    expect((await store.get(job.id))?.status).toBe('succeeded');
    expect(await eventsOf(job.id)).toEqual([]);
    expect(ended).toEqual([{ id: job.id, end: expect.objectContaining({ status: 'succeeded' }) }]);
  });

  it('fail from queued: out of the queued index, counted once, one job.failed, reported once', async () => {
    const { batchId, jobs } = await acceptBatch(2);
    const job = jobs[1]!;
    const failure = { code: 'provider_error' as const, message: 'fal is down', completedMs: Date.now() };
    expect(await lifecycle.fail(job, failure)).toBe(true);
    expect(await lifecycle.fail(job, failure)).toBe(false);
    const stored = await store.get(job.id);
    expect(stored?.status).toBe('failed');
    expect(stored?.error).toEqual({ code: 'provider_error', message: 'fal is down' });
    expect(await isQueuedIndexed(job.id)).toBe(false);
    expect(await counts(batchId)).toEqual({ status: 'in_progress', succeeded: 0, failed: 1, canceled: 0 });
    expect(await eventsOf(job.id)).toEqual(['job.failed']);
    expect(ended).toEqual([
      { id: job.id, end: expect.objectContaining({ status: 'failed', errorCode: 'provider_error' }) },
    ]);
  });

  it('stall: failed with internal_error, counted once, one job.failed, reported once', async () => {
    const { batchId, jobs } = await acceptBatch(1);
    const job = jobs[0]!;
    await lifecycle.start(job);
    expect(await lifecycle.stall(job.id, 'job stalled more than allowable limit')).toBe(true);
    expect(await lifecycle.stall(job.id, 'job stalled more than allowable limit')).toBe(false);
    expect((await store.get(job.id))?.error?.code).toBe('internal_error');
    expect(await counts(batchId)).toEqual({ status: 'completed', succeeded: 0, failed: 1, canceled: 0 });
    expect(await eventsOf(job.id)).toEqual(['job.failed', 'job.started']);
    expect(ended.map((entry) => entry.end.errorCode)).toEqual(['internal_error']);
  });

  it('cancel of a granted job still in BullMQ: out of BullMQ, its slot goes to the next job; counted once', async () => {
    const { batchId, jobs } = await acceptBatch(2);
    const [granted, waiting] = [jobs[0]!, jobs[1]!];
    expect(await scheduler.holds(granted.id)).toBe(true);
    expect(await scheduler.isWaiting(waiting.id)).toBe(true);
    expect(await inBullMq(granted.id)).toBe(true);
    const canceled = await lifecycle.cancel(granted);
    expect(canceled.status).toBe('canceled');
    expect(await inBullMq(granted.id)).toBe(false);
    expect(await scheduler.holds(granted.id)).toBe(false);
    // The freed slot went to the next job at once.
    expect(await scheduler.holds(waiting.id)).toBe(true);
    expect(await isQueuedIndexed(granted.id)).toBe(false);
    expect((await lifecycle.cancel(granted)).status).toBe('canceled');
    expect(await counts(batchId)).toEqual({ status: 'in_progress', succeeded: 0, failed: 0, canceled: 1 });
    expect(await eventsOf(granted.id)).toEqual(['job.canceled']);
    // A cancel is not a process's end to report (its worker reports what it saw).
    expect(ended).toEqual([]);
  });

  it('cancel of a waiting job: it leaves the order at once and never takes a slot', async () => {
    const { jobs } = await acceptBatch(3);
    const [first, second, third] = [jobs[0]!, jobs[1]!, jobs[2]!];
    await lifecycle.cancel(second);
    expect(await scheduler.isWaiting(second.id)).toBe(false);
    expect(await isQueuedIndexed(second.id)).toBe(false);
    await fair.giveBack([{ jobId: first.id, tenant: TENANT }]);
    expect(await scheduler.holds(second.id)).toBe(false);
    expect(await scheduler.holds(third.id)).toBe(true);
  });

  it('cancel racing succeed: exactly one outcome, counted once, one terminal event', async () => {
    for (let round = 0; round < 10; round++) {
      const { batchId, jobs } = await acceptBatch(1);
      const job = jobs[0]!;
      await lifecycle.start(job);
      ended = [];
      const output = { images: [] } as unknown as JobRecord['output'];
      const [, succeeded] = await Promise.all([
        lifecycle.cancel({ ...job }),
        lifecycle.succeed({ ...job }, Date.now(), { output }),
      ]);
      const status = (await store.get(job.id))?.status;
      expect(status).toBe(succeeded ? 'succeeded' : 'canceled');
      const batch = await counts(batchId);
      expect((batch.succeeded ?? 0) + (batch.canceled ?? 0)).toBe(1);
      expect(batch.status).toBe('completed');
      expect(await eventsOf(job.id)).toEqual(
        ['job.started', succeeded ? 'job.succeeded' : 'job.canceled'].sort(),
      );
      expect(ended.length).toBe(succeeded ? 1 : 0);
    }
  });

  it("a batch's queued jobs canceled in one call: out of the order and BullMQ, counted once each, one event each", async () => {
    const { batchId, jobs } = await acceptBatch(4);
    await lifecycle.start(jobs[0]!);
    const ids = jobs.map((job) => job.id);
    const canceled = await lifecycle.cancelQueuedOfBatch({ id: batchId, tenant: TENANT }, ids);
    expect(canceled.sort()).toEqual(ids.slice(1).sort());
    expect(await lifecycle.cancelQueuedOfBatch({ id: batchId, tenant: TENANT }, ids)).toEqual([]);
    for (const id of ids.slice(1)) {
      expect((await store.get(id))?.status).toBe('canceled');
      expect(await scheduler.isWaiting(id)).toBe(false);
      expect(await isQueuedIndexed(id)).toBe(false);
      expect(await inBullMq(id)).toBe(false);
      expect(await eventsOf(id)).toEqual(['job.canceled']);
    }
    // The running one is its worker's to stop; the batch waits for it.
    expect((await store.get(ids[0]!))?.status).toBe('running');
    expect(await counts(batchId)).toEqual({ status: 'in_progress', succeeded: 0, failed: 0, canceled: 3 });
  });

  it('settle: the stored outcome again, still counted once and one event', async () => {
    const { batchId, jobs } = await acceptBatch(1);
    const job = jobs[0]!;
    await lifecycle.cancel(job);
    await lifecycle.settle(job.id, 'job.canceled');
    // The event a job did not have is never emitted.
    await lifecycle.settle(job.id, 'job.succeeded');
    expect(await counts(batchId)).toEqual({ status: 'completed', succeeded: 0, failed: 0, canceled: 1 });
    expect(await eventsOf(job.id)).toEqual(['job.canceled']);
    expect(await batchEvents()).toBe(1);
  });
});
