import { newId, type Priority } from '@fluxq/core';
import { redisForTests, type TestRedis } from '@fluxq/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createFairQueue,
  createImagesQueue,
  type FairQueue,
  type ImagesQueue,
  storeKeys,
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

/** Admits `count` queued jobs of `tenant` (their records hold only the status the dispatcher reads). */
async function admit(fair: FairQueue, tenant: string, count: number, priority: Priority = 'bulk') {
  const ids = Array.from({ length: count }, () => newId('job'));
  for (const id of ids) await redis.hset(storeKeys.job(id), 'status', JSON.stringify('queued'));
  await fair.admit(ids.map((jobId) => ({ data: { jobId, tenant }, priority })));
  return ids;
}

/** Job ids in the queue, in the order BullMQ would hand them out. */
async function queuedOrder(): Promise<string[]> {
  const jobs = await queue.getJobs(['prioritized', 'wait'], 0, -1, true);
  return jobs.map((job) => job.id!);
}

describe('the fair queue in front of images', () => {
  it('keeps at most the window in the queue and takes tenants in turns', async () => {
    const fair = createFairQueue(redis, queue, { window: 6 });
    const a = await admit(fair, 'acme', 100);
    const b = await admit(fair, 'globex', 3);
    expect(await fair.dispatch()).toBe(6);
    // acme, globex, acme, globex, acme, globex: B's 3 are in the first 6, not behind A's 100.
    expect(await queuedOrder()).toEqual([a[0], b[0], a[1], b[1], a[2], b[2]]);
    expect(await fair.dispatch()).toBe(0);
    expect(await fair.waiting()).toBe(97);
  });

  it('serves every interactive tenant before default and bulk ones', async () => {
    const fair = createFairQueue(redis, queue, { window: 3 });
    await admit(fair, 'acme', 5, 'bulk');
    const urgent = await admit(fair, 'globex', 2, 'interactive');
    await fair.dispatch();
    const queued = await queuedOrder();
    expect(queued.slice(0, 2)).toEqual(urgent);
  });

  it('skips jobs that were canceled while they waited', async () => {
    const fair = createFairQueue(redis, queue, { window: 10 });
    const [first, second] = await admit(fair, 'acme', 2);
    await redis.hset(storeKeys.job(first!), 'status', JSON.stringify('canceled'));
    expect(await fair.dispatch()).toBe(1);
    expect(await queuedOrder()).toEqual([second]);
  });

  it('re-adds jobs a dispatcher popped but never handed to the queue', async () => {
    let now = 1_000_000;
    const fair = createFairQueue(redis, queue, { window: 10, now: () => now });
    const [id] = await admit(fair, 'acme', 1);
    // A dispatcher that died between its pop and its add: the job is only in transit.
    await redis.zadd('{fluxq}:fair:transit', now, id!);
    await redis.hset(
      '{fluxq}:fair:transit-data',
      id!,
      JSON.stringify({ data: { jobId: id, tenant: 'acme' }, priority: 'bulk' }),
    );
    await redis.del('{fluxq}:fair:jobs:bulk:acme', '{fluxq}:fair:ring:bulk', '{fluxq}:fair:ringset:bulk');
    expect(await fair.sweep(30_000)).toBe(0);
    now += 31_000;
    expect(await fair.sweep(30_000)).toBe(1);
    expect(await queuedOrder()).toEqual([id]);
    expect(await redis.zcard('{fluxq}:fair:transit')).toBe(0);
  });
});
