import { type FalRequestRef, type JobRecord, type JobStatus, newId } from '@fluxq/core';
import { redisForTests, type TestRedis, waitFor } from '@fluxq/testing';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createJobStore, type JobStore, recordKeys } from '../src/index.js';

/** A complete, valid job record: every field set, nested objects included. */
function makeRecord(overrides: Partial<JobRecord> = {}): JobRecord {
  const createdMs = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
  return {
    id: newId('job', createdMs),
    tenant: 'tenant-a',
    status: 'queued',
    model: 'flux.2-dev-turbo',
    operation: 'edit',
    priority: 'default',
    created_at: Math.floor(createdMs / 1000),
    started_at: null,
    completed_at: null,
    input: {
      prompt: 'a lighthouse at dusk, oil painting',
      images: [
        {
          kind: 'stored',
          key: 'inputs/tenant-a/abc.png',
          width: 1024,
          height: 768,
          content_type: 'image/png',
          bytes: 123_456,
        },
        { kind: 'url', url: 'https://example.com/ref.jpg' },
      ],
      size: '1024x768',
      width: 1024,
      height: 768,
      size_rule: { kind: 'input', megapixels: 1 },
      n: 2,
      seed: 42,
      response_format: 'url',
      output_format: 'webp',
      output_compression: 80,
      guidance_scale: 2.5,
      enable_prompt_expansion: false,
      enable_safety_checker: true,
      passthrough: { acceleration: 'high', steps: 8, tiled: true },
    },
    output: null,
    error: null,
    attempts: 0,
    batch_id: null,
    metadata: { customer: 'c-1', 'utf-8': 'çà ✓' },
    webhook: null,
    timings: { queue_ms: null, provider_ms: null, total_ms: null },
    cost: { megapixels: 4, usd: 0.032 },
    fal_requests: [],
    fal_input_urls: [],
    created_ms: createdMs,
    started_ms: null,
    ...overrides,
  };
}

/** A queued text-to-image job as the API makes one (newJobRecord's shape): no images, no metadata. */
function queuedRecord(overrides: Partial<JobRecord> = {}): JobRecord {
  return makeRecord({
    operation: 'generate',
    priority: 'bulk',
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
    metadata: {},
    cost: { megapixels: 1, usd: 0.008 },
    ...overrides,
  });
}

function falRequest(chunk: number): FalRequestRef {
  return {
    endpoint: 'fal-ai/flux-2/turbo/edit',
    request_id: `req-${chunk}`,
    chunk,
    num_images: 4,
    seed: 42 + chunk * 4,
    submitted_at: 1_767_000_000_000 + chunk,
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

describe('job store', () => {
  describe('when a job is created', () => {
    it('gives back the full record from get()', async () => {
      const record = makeRecord({
        status: 'succeeded',
        output: {
          images: [
            {
              key: 'outputs/tenant-a/x.webp',
              width: 1024,
              height: 768,
              content_type: 'image/webp',
              bytes: 9_999,
            },
          ],
          seed: 42,
          revised_prompt: null,
        },
        fal_requests: [falRequest(0)],
        fal_input_urls: ['https://v3.fal.media/files/abc.png'],
        started_at: 1_767_000_001,
        started_ms: 1_767_000_001_000,
      });
      await store.create(record);
      expect(await store.get(record.id)).toEqual(record);
    });

    it('reports the status alone from status()', async () => {
      const record = makeRecord({ status: 'running' });
      await store.create(record);
      expect(await store.status(record.id)).toBe('running');
    });

    it('keeps the record for the retention period only', async () => {
      const record = makeRecord();
      await store.create(record);
      const ttl = await redis.ttl(recordKeys.job(record.id));
      expect(ttl).toBeGreaterThan(29 * 24 * 3_600);
      expect(ttl).toBeLessThanOrEqual(30 * 24 * 3_600);

      const shortLived = createJobStore(redis, { retentionS: 60 });
      const other = makeRecord();
      await shortLived.create(other);
      const shortTtl = await redis.ttl(recordKeys.job(other.id));
      expect(shortTtl).toBeGreaterThan(0);
      expect(shortTtl).toBeLessThanOrEqual(60);
    });

    it('keeps the TTL when the record is updated later', async () => {
      const record = makeRecord();
      await store.create(record);
      await store.update(record.id, { status: 'running', metadata: { touched: 'yes' } });
      expect(await redis.ttl(recordKeys.job(record.id))).toBeGreaterThan(0);
    });

    it('indexes the job under its tenant, scored by creation time', async () => {
      const record = makeRecord({ tenant: 'tenant-index' });
      await store.create(record);
      expect(await redis.zscore(recordKeys.tenantJobs('tenant-index'), record.id)).toBe(
        String(record.created_ms),
      );
    });
  });

  describe('when many jobs are created at once (a batch)', () => {
    it('writes every record, its retention and its tenant index entry, chunk by chunk and tenant by tenant', async () => {
      const tenants = ['many-a', 'many-b'];
      // Runs of each tenant that cross chunk boundaries (chunks of 7 below).
      const records = Array.from({ length: 40 }, (_, i) =>
        makeRecord({
          id: newId('job', 1_767_000_000_000 + i),
          tenant: tenants[Math.floor(i / 9) % 2]!,
          created_ms: 1_767_000_000_000 + i,
          created_at: 1_767_000_000,
        }),
      );
      await store.createMany(records, 7);
      expect(await store.getMany(records.map((r) => r.id))).toEqual(records);
      for (const tenant of tenants) {
        const ids = records.filter((r) => r.tenant === tenant).map((r) => r.id);
        expect(await redis.zrange(recordKeys.tenantJobs(tenant), 0, -1)).toEqual(ids);
      }
      for (const record of records) expect(await redis.ttl(recordKeys.job(record.id))).toBeGreaterThan(0);
    });
  });

  describe('when several jobs are read at once', () => {
    it('gives them back in the order asked, undefined where a job does not exist', async () => {
      const first = makeRecord({ status: 'running' });
      const second = makeRecord();
      await store.create(first);
      await store.create(second);
      const missing = newId('job');
      expect(await store.getMany([second.id, missing, first.id])).toEqual([second, undefined, first]);
      expect(await store.getMany([])).toEqual([]);
    });
  });

  describe('when a job does not exist', () => {
    it('answers undefined from get(), status() and update()', async () => {
      const id = newId('job');
      expect(await store.get(id)).toBeUndefined();
      expect(await store.status(id)).toBeUndefined();
      expect(await store.update(id, { status: 'running' })).toBeUndefined();
      expect(await store.update(id, { status: 'running' }, { ifStatusIn: ['queued'] })).toBeUndefined();
    });

    it('does not create a record when an update targets it', async () => {
      const id = newId('job');
      await store.update(id, { status: 'canceled', metadata: { a: 'b' } });
      expect(await redis.exists(recordKeys.job(id))).toBe(0);
    });
  });

  describe('when an update is guarded by ifStatusIn', () => {
    it.each<[JobStatus, readonly JobStatus[], JobStatus]>([
      ['queued', ['queued'], 'running'],
      ['queued', ['queued', 'running'], 'running'],
      ['running', ['queued', 'running'], 'running'],
      ['running', ['running'], 'succeeded'],
      ['running', ['queued', 'running'], 'failed'],
      ['queued', ['queued', 'running'], 'canceled'],
    ])('applies it when the job is %s and %j are allowed (→ %s)', async (from, allowed, to) => {
      const record = makeRecord({ status: from });
      await store.create(record);
      const result = await store.update(record.id, { status: to, attempts: 1 }, { ifStatusIn: allowed });
      expect(result).toEqual({ applied: true, previous: from });
      expect(await store.get(record.id)).toEqual({ ...record, status: to, attempts: 1 });
    });

    it.each<[string, JobStatus, readonly JobStatus[], JobStatus]>([
      ['a succeeded job cannot go back to running', 'succeeded', ['queued', 'running'], 'running'],
      ['a canceled job is not overwritten by succeeded', 'canceled', ['running'], 'succeeded'],
      ['a canceled job is not overwritten by failed', 'canceled', ['queued', 'running'], 'failed'],
      ['a failed job cannot be canceled', 'failed', ['queued', 'running'], 'canceled'],
      ['a queued job cannot succeed without running', 'queued', ['running'], 'succeeded'],
    ])('refuses it and leaves the record unchanged: %s', async (_name, from, allowed, to) => {
      const record = makeRecord({ status: from, metadata: { before: 'yes' } });
      await store.create(record);
      const result = await store.update(
        record.id,
        { status: to, metadata: { after: 'yes' }, error: { code: 'internal_error', message: 'x' } },
        { ifStatusIn: allowed },
      );
      expect(result).toEqual({ applied: false, previous: from });
      expect(await store.get(record.id)).toEqual(record);
    });

    it('does not match a status by prefix or substring', async () => {
      const record = makeRecord({ status: 'running' });
      await store.create(record);
      // 'run' and 'unning' must not match "running" in the script's list lookup.
      const result = await store.update(
        record.id,
        { status: 'succeeded' },
        { ifStatusIn: ['run', 'unning'] as unknown as JobStatus[] },
      );
      expect(result).toEqual({ applied: false, previous: 'running' });
      expect(await store.status(record.id)).toBe('running');
    });
  });

  describe('when an update is not guarded', () => {
    it('applies it whatever the status and reports the previous status', async () => {
      const record = makeRecord({ status: 'succeeded' });
      await store.create(record);
      expect(await store.update(record.id, { metadata: { note: 'late' } })).toEqual({
        applied: true,
        previous: 'succeeded',
      });
      expect(await store.get(record.id)).toEqual({ ...record, metadata: { note: 'late' } });
    });

    it('leaves fields out of the patch, and fields set to undefined, untouched', async () => {
      const record = makeRecord({ attempts: 3 });
      await store.create(record);
      await store.update(record.id, { attempts: undefined, started_ms: 5 });
      expect(await store.get(record.id)).toEqual({ ...record, started_ms: 5 });
    });
  });

  describe('when two writers update different fields at the same time', () => {
    it('keeps both writes (fal_requests and metadata in parallel, 50 times)', async () => {
      const record = makeRecord({ status: 'running' });
      await store.create(record);
      const writer = new Redis(server.url, { maxRetriesPerRequest: null });
      try {
        const otherStore = createJobStore(writer);
        const refs: FalRequestRef[] = [];
        for (let round = 0; round < 50; round++) {
          refs.push(falRequest(round));
          const metadata = { round: String(round) };
          await Promise.all([
            store.update(record.id, { fal_requests: [...refs] }),
            otherStore.update(record.id, { metadata }, { ifStatusIn: ['running'] }),
          ]);
          const stored = await store.get(record.id);
          expect(stored?.fal_requests).toEqual(refs);
          expect(stored?.metadata).toEqual(metadata);
        }
      } finally {
        await writer.quit();
      }
    });
  });

  describe('when a job is deleted', () => {
    it('removes the record and its tenant index entry, and leaves other jobs alone', async () => {
      const gone = makeRecord({ tenant: 'tenant-del' });
      const kept = makeRecord({ tenant: 'tenant-del' });
      await store.create(gone);
      await store.create(kept);
      await store.delete(gone.id, gone.tenant);
      expect(await store.get(gone.id)).toBeUndefined();
      expect(await redis.exists(recordKeys.job(gone.id))).toBe(0);
      expect(await redis.zscore(recordKeys.tenantJobs(gone.tenant), gone.id)).toBeNull();
      expect(await store.get(kept.id)).toEqual(kept);
      expect(await redis.zrange(recordKeys.tenantJobs(gone.tenant), 0, -1)).toEqual([kept.id]);
    });

    it('deletes many in chunks (a failed create undone), the rest of the tenant kept', async () => {
      const gone = [1, 2, 3].map(() => makeRecord({ tenant: 'tenant-undo' }));
      const kept = makeRecord({ tenant: 'tenant-undo' });
      await store.createMany([...gone, kept]);
      await store.deleteMany(
        gone.map((record) => record.id),
        'tenant-undo',
        2,
      );
      expect(await store.getMany([...gone, kept].map((record) => record.id))).toEqual([
        undefined,
        undefined,
        undefined,
        kept,
      ]);
      expect(await redis.zrange(recordKeys.tenantJobs('tenant-undo'), 0, -1)).toEqual([kept.id]);
    });
  });
});

describe('the job record in Redis', () => {
  it('is its status and the record as accepted in pieces of at most 64 bytes, a compact listpack', async () => {
    const record = queuedRecord({ metadata: { customer: 'c-1' }, batch_id: 'batch_x' });
    await store.create(record);
    const key = recordKeys.job(record.id);
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
    const bytes = await redis.memory('USAGE', recordKeys.job(record.id), 'SAMPLES', '0');
    expect(bytes).toBeLessThan(560);
  });

  it('cuts a base with multi-byte characters at 64 bytes, and reads it back whole', async () => {
    // 2-, 3- and 4-byte characters, so pieces end inside characters: joined as bytes, they read back.
    const prompt = `${'✓'.repeat(41)}😀${'é'.repeat(50)}${'😀'.repeat(30)}`;
    const record = queuedRecord({ input: { ...queuedRecord().input, prompt } });
    await store.create(record);
    const fields = await redis.hgetallBuffer(recordKeys.job(record.id));
    for (const [field, value] of Object.entries(fields)) expect(value.length, field).toBeLessThanOrEqual(64);
    expect(await redis.object('ENCODING', recordKeys.job(record.id))).toBe('listpack');
    expect((await store.get(record.id))?.input.prompt).toBe(prompt);
    expect((await store.getMany([record.id]))[0]?.input.prompt).toBe(prompt);
    // A cancel reads its creation time out of the same pieces.
    const [canceled] = await store.cancelQueued([record.id], record.created_ms + 1_000);
    expect(canceled?.id).toBe(record.id);
    expect((await store.get(record.id))?.timings.total_ms).toBe(1_000);
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
    await redis.hset(recordKeys.job(record.id), ...args);
    expect(await redis.hexists(recordKeys.job(record.id), 'b0')).toBe(0);
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

describe('job events', () => {
  let subscriber: Redis;
  let messages: string[];

  beforeEach(async () => {
    messages = [];
    subscriber = new Redis(server.url, { maxRetriesPerRequest: null });
    subscriber.on('message', (channel: string, message: string) => {
      if (channel === recordKeys.jobEvents) messages.push(message);
    });
    await subscriber.subscribe(recordKeys.jobEvents);
  });

  afterEach(async () => {
    await subscriber.quit();
  });

  /** Resolves once `message` has been received; messages arrive in publish order. */
  const received = (message: string) =>
    waitFor(() => messages.includes(message), {
      timeoutMs: 5_000,
      message: `"${message}" on ${recordKeys.jobEvents}`,
    });

  describe('when a status changes', () => {
    it('publishes "<id> <status>" for each change, in order', async () => {
      const record = makeRecord();
      await store.create(record);
      await store.update(record.id, { status: 'running' }, { ifStatusIn: ['queued'] });
      await store.update(record.id, { status: 'succeeded' }, { ifStatusIn: ['running'] });
      await received(`${record.id} succeeded`);
      expect(messages).toEqual([`${record.id} running`, `${record.id} succeeded`]);
    });
  });

  describe('when an update does not change the status', () => {
    it('publishes nothing for it', async () => {
      const record = makeRecord({ status: 'running' });
      await store.create(record);
      await store.update(record.id, { status: 'running', attempts: 2 });
      await store.update(record.id, { metadata: { a: 'b' } });
      // A later change is the marker: pub/sub keeps order, so anything earlier has arrived by then.
      await store.update(record.id, { status: 'canceled' });
      await received(`${record.id} canceled`);
      expect(messages).toEqual([`${record.id} canceled`]);
    });

    it('publishes nothing for an update that ifStatusIn refused', async () => {
      const record = makeRecord({ status: 'canceled' });
      await store.create(record);
      const refused = await store.update(record.id, { status: 'succeeded' }, { ifStatusIn: ['running'] });
      expect(refused?.applied).toBe(false);
      await store.update(record.id, { status: 'failed' });
      await received(`${record.id} failed`);
      expect(messages).toEqual([`${record.id} failed`]);
    });
  });
});
