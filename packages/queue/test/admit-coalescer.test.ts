import { newId, type Priority } from '@fluxq/core';
import { redisForTests, type TestRedis } from '@fluxq/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createImagesQueue, createScheduledQueue, createScheduler, type ImagesQueue } from '../src/index.js';

/**
 * Single-job admissions made in one tick share one scheduler script call, and each request
 * keeps its own outcome: its job granted (or waiting) in arrival order, its own error.
 */

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

/** Scheduler script runs so far (EVAL and EVALSHA of every script, as Redis counts them). */
async function scriptCalls(): Promise<number> {
  const stats = await redis.info('commandstats');
  let calls = 0;
  for (const match of stats.matchAll(/cmdstat_eval(?:sha)?:calls=(\d+)/g)) calls += Number(match[1]);
  return calls;
}

const entry = (jobId: string, tenant: string, priority: Priority = 'default') => ({
  data: { jobId, tenant },
  priority,
});

describe('admissions of single jobs in one tick', () => {
  it('share one script call, and grant in arrival order what the free slots allow', async () => {
    const scheduler = createScheduler(redis, { limit: 2 });
    await scheduler.grant();
    const fair = createScheduledQueue(scheduler, queue);
    const ids = Array.from({ length: 5 }, () => newId('job'));
    const before = await scriptCalls();
    await Promise.all(ids.map((id, i) => fair.admit([entry(id, i % 2 === 0 ? 'acme' : 'globex')])));
    // One scheduler call for the five (BullMQ's own adds are scripts too: counted separately below).
    const bullmqAdds = 4;
    expect((await scriptCalls()) - before - bullmqAdds).toBe(1);
    expect(await Promise.all(ids.map((id) => scheduler.holds(id)))).toEqual([
      true,
      true,
      false,
      false,
      false,
    ]);
    // Granted and prefetched jobs are in BullMQ (each delivered once), the rest wait in order.
    const inQueue = (await queue.getJobs(['prioritized', 'wait'], 0, -1, true)).map((job) => job.id).sort();
    expect(inQueue).toEqual(ids.slice(0, 4).sort());
    expect(await Promise.all(ids.map((id) => scheduler.isWaiting(id)))).toEqual([
      false,
      false,
      true,
      true,
      true,
    ]);
    expect((await scheduler.place(ids[4]!))?.position).toBe(2);
  });

  it("keep each request's error its own: a ticket the script refuses fails alone", async () => {
    const scheduler = createScheduler(redis, { limit: 0 });
    const fair = createScheduledQueue(scheduler, queue);
    const [good, bad, alsoGood] = [newId('job'), newId('job'), newId('job')];
    const outcomes = await Promise.allSettled([
      fair.admit([entry(good!, 'acme')]),
      // Not a class the scheduler knows: its script call fails (a wrong-type write inside Lua).
      fair.admit([entry(bad!, 'acme', 'urgent' as Priority)]),
      fair.admit([entry(alsoGood!, 'globex')]),
    ]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(await Promise.all([good, bad, alsoGood].map((id) => scheduler.isWaiting(id!)))).toEqual([
      true,
      false,
      true,
    ]);
    expect(await fair.waiting()).toBe(2);
  });
});
