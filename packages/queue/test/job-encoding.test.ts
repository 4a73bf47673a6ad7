import { type JobRecord, newId } from '@fluxq/core';
import { redisForTests, type TestRedis } from '@fluxq/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJobStore, type JobStore, storeKeys } from '../src/index.js';

/** A queued text-to-image job as the API makes one (newJobRecord's shape). */
function queuedRecord(overrides: Partial<JobRecord> = {}): JobRecord {
  const createdMs = Date.UTC(2026, 11, 4, 12, 0, 0, 250);
  return {
    id: newId('job', createdMs),
    tenant: 'tenant-a',
    status: 'queued',
    model: 'flux.2-dev-turbo',
    operation: 'generate',
    priority: 'bulk',
    created_at: Math.floor(createdMs / 1000),
    started_at: null,
    completed_at: null,
    input: {
      prompt: 'tiny 1',
      size_rule: { kind: 'exact', width: 512, height: 512 },
      n: 1,
      response_format: 'url',
      output_format: 'png',
      passthrough: {},
      images: [],
      size: '512x512',
      width: 512,
      height: 512,
    },
    output: null,
    error: null,
    attempts: 0,
    batch_id: null,
    metadata: {},
    webhook: null,
    timings: { queue_ms: null, provider_ms: null, total_ms: null },
    cost: { megapixels: 1, usd: 0.008 },
    fal_requests: [],
    fal_input_urls: [],
    created_ms: createdMs,
    started_ms: null,
    ...overrides,
  };
}

let server: TestRedis;
let redis: Redis;
let store: JobStore;

beforeAll(async () => {
  server = await redisForTests();
  redis = new Redis(server.url, { maxRetriesPerRequest: null });
  store = createJobStore(redis);
});

afterAll(async () => {
  await redis?.quit();
  await server?.stop();
});

describe('the job record in Redis', () => {
  it('is its status and the record as accepted in pieces of at most 64 bytes, a compact listpack', async () => {
    const record = queuedRecord({ metadata: { customer: 'c-1' }, batch_id: 'batch_x' });
    await store.create(record);
    const key = storeKeys.job(record.id);
    const fields = await redis.hgetall(key);
    const pieces = Object.keys(fields).filter((field) => field !== 'status');
    expect(pieces).toEqual(pieces.map((_, i) => `b${i}`));
    expect(pieces.length).toBeGreaterThan(1);
    for (const piece of pieces) expect(Buffer.byteLength(fields[piece]!)).toBeLessThanOrEqual(64);
    expect(await redis.object('ENCODING', key)).toBe('listpack');
    const base = JSON.parse(pieces.map((piece) => fields[piece]).join('')) as Record<string, unknown>;
    // Neither the id (the key holds it), the status, created_at nor starting values are repeated.
    expect(Object.keys(base).sort()).toEqual(
      [
        'batch_id',
        'cost',
        'created_ms',
        'input',
        'metadata',
        'model',
        'operation',
        'priority',
        'tenant',
      ].sort(),
    );
    expect(base.input).not.toHaveProperty('images');
    expect(base.input).not.toHaveProperty('passthrough');
    expect(await store.get(record.id)).toEqual(record);
  });

  it('keeps input images and passthrough fields when a job has them', async () => {
    const input = {
      ...queuedRecord().input,
      images: [{ kind: 'url' as const, url: 'https://example.com/in.png' }],
      passthrough: { steps: 8 },
    };
    const record = queuedRecord({ operation: 'edit', input });
    await store.create(record);
    expect(await store.get(record.id)).toEqual(record);
  });

  it('takes about half a kilobyte of Redis memory for a queued job', async () => {
    const record = queuedRecord();
    await store.create(record);
    const bytes = await redis.memory('USAGE', storeKeys.job(record.id), 'SAMPLES', '0');
    expect(bytes).toBeLessThan(560);
  });

  it('cuts a base with multi-byte characters between characters, and reads it back whole', async () => {
    // 3-byte and 4-byte characters, so no 64-byte boundary falls on a character boundary by luck.
    const prompt = `${'✓'.repeat(41)}😀${'é'.repeat(50)}${'😀'.repeat(30)}`;
    const record = queuedRecord({ input: { ...queuedRecord().input, prompt } });
    await store.create(record);
    const fields = await redis.hgetall(storeKeys.job(record.id));
    for (const [field, value] of Object.entries(fields)) {
      expect(Buffer.byteLength(value), field).toBeLessThanOrEqual(64);
      expect(value).not.toContain('\uFFFD');
    }
    expect((await store.get(record.id))?.input.prompt).toBe(prompt);
  });

  it('reads a later write over the packed value of the same field', async () => {
    const record = queuedRecord();
    await store.create(record);
    await store.update(record.id, { cost: { megapixels: 2, usd: 0.016 }, attempts: 1, status: 'running' });
    expect(await store.get(record.id)).toEqual({
      ...record,
      status: 'running',
      attempts: 1,
      cost: { megapixels: 2, usd: 0.016 },
    });
  });

  it('still reads a record written a field per property, as before the packed base', async () => {
    const record = queuedRecord({ webhook: { url: 'https://example.com/hook', events: ['job.succeeded'] } });
    const args: string[] = [];
    for (const [field, value] of Object.entries(record)) args.push(field, JSON.stringify(value));
    await redis.hset(storeKeys.job(record.id), ...args);
    expect(await redis.hexists(storeKeys.job(record.id), 'b0')).toBe(0);
    expect(await store.get(record.id)).toEqual(record);
    const [canceled] = await store.cancelQueued([record.id], record.created_ms + 1_500);
    expect(canceled).toEqual({ id: record.id, webhook: true });
    expect((await store.get(record.id))?.timings.total_ms).toBe(1_500);
  });

  it('cancels new records with the creation time and webhook their base holds', async () => {
    const withHook = queuedRecord({ webhook: { url: 'https://example.com/hook', events: ['job.canceled'] } });
    const without = queuedRecord({ id: newId('job', Date.now()) });
    await store.createMany([withHook, without]);
    const canceled = await store.cancelQueued([withHook.id, without.id], withHook.created_ms + 2_000);
    expect(canceled).toEqual([
      { id: withHook.id, webhook: true },
      { id: without.id, webhook: false },
    ]);
    const after = await store.getMany([withHook.id, without.id]);
    expect(after.map((r) => r?.status)).toEqual(['canceled', 'canceled']);
    expect(after[0]?.timings.total_ms).toBe(2_000);
    expect(after[0]?.completed_at).toBe(Math.floor((withHook.created_ms + 2_000) / 1000));
  });
});
