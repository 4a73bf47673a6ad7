import { redisForTests, type TestRedis } from '@fluxq/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type BatchRecord, type BatchStore, batchKeys, createBatchStore } from '../src/index.js';

let server: TestRedis;
let redis: Redis;
let batches: BatchStore;

beforeAll(async () => {
  server = await redisForTests();
  redis = new Redis(server.url);
  batches = createBatchStore(redis, { now: () => 1_800_000_000_000 });
});
afterAll(async () => {
  redis?.disconnect();
  await server?.stop();
});
beforeEach(async () => {
  await redis.flushall();
});

const batch = (overrides: Partial<BatchRecord> = {}): BatchRecord => ({
  id: 'batch_0000000000000000000000001',
  tenant: 'tenant-a',
  status: 'validating',
  priority: 'bulk',
  total: 2,
  succeeded: 0,
  failed: 0,
  canceled: 0,
  cost_micros: 0,
  created_at: 1_800_000_000,
  completed_at: null,
  created_ms: 1_800_000_000_000,
  metadata: { run: '7' },
  webhook_url: null,
  ...overrides,
});
const lines = [
  { jobId: 'job_a', customId: 'first' },
  { jobId: 'job_b', customId: 'second one' },
];

describe('batch store', () => {
  it('keeps its keys where Redis holds them today', () => {
    expect(batchKeys.batch('batch_x')).toBe('{fluxq}:batch:batch_x');
    expect(batchKeys.counted('batch_x')).toBe('{fluxq}:batch:batch_x:counted');
    expect(batchKeys.cancelling).toBe('{fluxq}:batches:cancelling');
  });

  it('stores a batch with its lines and custom ids', async () => {
    await batches.create(batch(), lines);
    expect(await batches.get(batch().id)).toEqual(batch());
    expect(await batches.lines(batch().id, 0, 10)).toEqual(lines);
    expect(await batches.jobOf(batch().id, 'second one')).toBe('job_b');
    expect(await batches.listIds('tenant-a', undefined, 10)).toEqual([batch().id]);
  });

  it('counts each job once and finishes the batch in exactly one call', async () => {
    await batches.create(batch(), lines);
    expect(await batches.markInProgress(batch().id)).toBeNull();
    expect(await batches.recordOutcome(batch().id, 'job_a', 'succeeded', 1_500)).toEqual({
      counted: true,
      transition: null,
    });
    expect(await batches.recordOutcome(batch().id, 'job_a', 'succeeded', 1_500)).toEqual({
      counted: false,
      transition: null,
    });
    expect(await batches.recordOutcomes(batch().id, ['job_b', 'job_a'], 'failed')).toBe('completed');
    expect(await batches.recordOutcomes(batch().id, ['job_b'], 'failed')).toBeNull();
    expect(await batches.get(batch().id)).toMatchObject({
      status: 'completed',
      succeeded: 1,
      failed: 1,
      cost_micros: 1_500,
      completed_at: 1_800_000_000,
    });
  });

  it('is completed at once when its jobs all finished while it was being enqueued', async () => {
    await batches.create(batch(), lines);
    await batches.recordOutcomes(batch().id, ['job_a', 'job_b'], 'canceled');
    expect(await batches.markInProgress(batch().id)).toBe('completed');
  });

  it('moves to cancelling, listed until its jobs are canceled, then to cancelled', async () => {
    await batches.create(batch(), lines);
    await batches.markInProgress(batch().id);
    expect(await batches.markCancelling(batch().id)).toEqual({ status: 'cancelling', transition: null });
    expect(await batches.cancelPending(10)).toEqual([batch().id]);
    expect(await batches.recordOutcomes(batch().id, ['job_a', 'job_b'], 'canceled')).toBe('cancelled');
    await batches.cancelDone(batch().id);
    expect(await batches.cancelPending(10)).toEqual([]);
    expect(await batches.markCancelling('batch_gone')).toEqual({ status: undefined, transition: null });
  });
});
