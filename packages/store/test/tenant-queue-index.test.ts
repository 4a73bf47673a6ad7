import { redisForTests, type TestRedis } from '@fluxq/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  markLeftQueue,
  markQueued,
  markQueuedWithin,
  queuedCount,
  queuedJobs,
  tenantQueuedKey,
} from '../src/index.js';

let server: TestRedis;
let redis: Redis;

beforeAll(async () => {
  server = await redisForTests();
  redis = new Redis(server.url);
});
afterAll(async () => {
  redis?.disconnect();
  await server?.stop();
});

describe('tenant queued-jobs index', () => {
  it('counts queued jobs per tenant, and a job added or removed twice counts once', async () => {
    await markQueued(redis, 'acme', 'job_a', 1_000);
    await markQueued(redis, 'acme', 'job_a', 1_000);
    await markQueued(redis, 'acme', 'job_b', 2_000);
    await markQueued(redis, 'globex', 'job_c', 3_000);
    expect(await queuedCount(redis, 'acme')).toBe(2);
    expect(await queuedJobs(redis, 'acme')).toEqual([
      { jobId: 'job_a', ms: 1_000 },
      { jobId: 'job_b', ms: 2_000 },
    ]);
    await markLeftQueue(redis, 'acme', 'job_a');
    await markLeftQueue(redis, 'acme', 'job_a');
    await markLeftQueue(redis, 'acme', 'job_unknown');
    expect(await queuedCount(redis, 'acme')).toBe(1);
    expect(await queuedCount(redis, 'globex')).toBe(1);
    expect(tenantQueuedKey('acme')).toBe('{fluxq}:tenant-queued:acme');
  });

  it('adds within a limit only, and a job already counted always fits', async () => {
    expect(await markQueuedWithin(redis, 'limited', 'job_1', 1, 2)).toBe(true);
    expect(await markQueuedWithin(redis, 'limited', 'job_2', 2, 2)).toBe(true);
    expect(await markQueuedWithin(redis, 'limited', 'job_3', 3, 2)).toBe(false);
    expect(await markQueuedWithin(redis, 'limited', 'job_2', 2, 2)).toBe(true);
    expect(await queuedCount(redis, 'limited')).toBe(2);
  });

  it('lets exactly the limit in when adds race', async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => markQueuedWithin(redis, 'racing', `job_${i}`, i, 5)),
    );
    expect(results.filter(Boolean)).toHaveLength(5);
    expect(await queuedCount(redis, 'racing')).toBe(5);
  });
});
