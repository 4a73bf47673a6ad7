import { newId, type Priority } from '@fluxq/core';
import { redisForTests, type TestRedis } from '@fluxq/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createImagesQueue,
  createScheduledQueue,
  createScheduler,
  type FairQueue,
  type ImagesQueue,
  schedulerKeys,
} from '../src/index.js';

let server: TestRedis;
let redis: Redis;
let queue: ImagesQueue;

beforeAll(async () => {
  server = await redisForTests();
  redis = new Redis(server.url, { maxRetriesPerRequest: null });
  queue = createImagesQueue(redis);
});

afterAll(async () => {
  await queue?.close();
  await redis?.quit();
  await server?.stop();
});

beforeEach(async () => {
  await redis.flushall();
});

async function admit(fair: FairQueue, tenant: string, count: number, priority: Priority = 'bulk') {
  const ids = Array.from({ length: count }, () => newId('job'));
  await fair.admit(ids.map((jobId) => ({ data: { jobId, tenant }, priority })));
  return ids;
}

/** Job ids in the queue, in the order BullMQ would hand them out. */
async function queuedOrder(): Promise<string[]> {
  const jobs = await queue.getJobs(['prioritized', 'wait'], 0, -1, true);
  return jobs.map((job) => job.id!);
}

describe('the scheduled queue in front of images', () => {
  it('lets into BullMQ the jobs granted a fal slot, and as many next ones ahead of their grant', async () => {
    const scheduler = createScheduler(redis, { limit: 4 });
    const fair = createScheduledQueue(scheduler, queue);
    const a = await admit(fair, 'acme', 100);
    const b = await admit(fair, 'globex', 3);
    // acme's first 4 took the free slots at once; globex waits for a slot, not behind acme's 96:
    // it joined the ring behind acme, whose turn is next, then it is globex's.
    // Then the next 4 in line (then all acme's) are prefetched: in BullMQ, so a worker prepares
    // them, but still waiting for their grant in their place.
    expect(await queuedOrder()).toEqual(a.slice(0, 8));
    expect(await scheduler.holds(a[4]!)).toBe(false);
    expect(await scheduler.isWaiting(a[4]!)).toBe(true);
    expect(await fair.waiting()).toBe(99);
    const freed = await scheduler.release([a[0]!, a[1]!, a[2]!]);
    expect(freed.granted).toEqual([a[4], b[0], a[5]]);
    // acme's were prefetched: their workers are woken. globex's goes to BullMQ with its grant,
    // and the prefetch tops up with globex's next (acme's next two are in already).
    expect(freed.woken).toEqual([a[4], a[5]]);
    expect(freed.dispatched.map((d) => d.data.jobId)).toEqual([b[0], b[1], b[2]]);
  });

  it('re-adds granted jobs a process left between the grant and BullMQ', async () => {
    let now = 1_000_000;
    const scheduler = createScheduler(redis, { limit: 1, now: () => now });
    // A process that died right after its grant: the job is only in transit.
    const [id] = [newId('job')];
    await scheduler.admit([
      {
        lease: id!,
        jobId: id!,
        tenant: 'acme',
        priority: 'bulk',
        kind: 'job',
        dispatch: true,
      },
    ]);
    const fair = createScheduledQueue(scheduler, queue);
    expect(await fair.sweep(30_000)).toBe(0);
    now += 31_000;
    expect(await fair.sweep(30_000)).toBe(1);
    expect(await queuedOrder()).toEqual([id]);
    expect(await redis.zcard(schedulerKeys.transit)).toBe(0);
  });

  it('grants with the limit the workers stored when a process has none configured', async () => {
    createScheduler(redis, { limit: 2 });
    await createScheduler(redis, { limit: 2 }).grant();
    const apiSide = createScheduledQueue(createScheduler(redis), queue);
    const ids = await admit(apiSide, 'acme', 3);
    expect(await queuedOrder()).toEqual(ids);
    expect(await Promise.all(ids.map((id) => createScheduler(redis).holds(id)))).toEqual([true, true, false]);
  });
});
