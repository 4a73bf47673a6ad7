import { redisForTests, type TestRedis } from '@fluxq/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createRecords, type Records, recordKeys, type UploadRecord } from '../src/index.js';

let server: TestRedis;
let redis: Redis;
let records: Records;

beforeAll(async () => {
  server = await redisForTests();
  redis = new Redis(server.url);
  records = createRecords(redis);
});
afterAll(async () => {
  redis?.disconnect();
  await server?.stop();
});
beforeEach(async () => {
  await redis.flushall();
});

const upload = (overrides: Partial<UploadRecord> = {}): UploadRecord => ({
  id: 'upl_0mx7abc',
  tenant: 'tenant-a',
  key: 'uploads/tenant-a/upl_0mx7abc.png',
  width: 64,
  height: 48,
  content_type: 'image/png',
  bytes: 1234,
  created_at: 1_800_000_000,
  expires_at: 1_800_003_600,
  ...overrides,
});

describe('uploads', () => {
  it('keeps a record for its TTL and shows it only to its tenant', async () => {
    await records.uploads.save(upload(), 3600);
    expect(await records.uploads.find('upl_0mx7abc', 'tenant-a')).toEqual(upload());
    expect(await records.uploads.find('upl_0mx7abc', 'tenant-b')).toBeUndefined();
    expect(await records.uploads.find('upl_other', 'tenant-a')).toBeUndefined();
    const ttl = await redis.ttl(recordKeys.upload('upl_0mx7abc'));
    expect(ttl).toBeGreaterThan(3500);
    expect(ttl).toBeLessThanOrEqual(3600);
  });
});

describe('idempotency claims', () => {
  it('lets one claim in, and replaces or deletes it only for the holder of its value', async () => {
    expect(await records.idempotency.claim('t', 'h1', 'mine', 120)).toBe(true);
    expect(await records.idempotency.claim('t', 'h1', 'theirs', 120)).toBe(false);
    // Another tenant's same key hash is another claim.
    expect(await records.idempotency.claim('u', 'h1', 'theirs', 120)).toBe(true);
    expect(await records.idempotency.read('t', 'h1')).toBe('mine');

    expect(await records.idempotency.replaceIfSame('t', 'h1', 'not-mine', 'done', 600)).toBe(false);
    expect(await records.idempotency.read('t', 'h1')).toBe('mine');
    expect(await records.idempotency.replaceIfSame('t', 'h1', 'mine', 'done', 600)).toBe(true);
    expect(await records.idempotency.read('t', 'h1')).toBe('done');
    expect(await redis.ttl(recordKeys.idempotency('t', 'h1'))).toBeGreaterThan(120);

    expect(await records.idempotency.replaceIfSame('t', 'h1', 'done', undefined, 600)).toBe(true);
    expect(await records.idempotency.read('t', 'h1')).toBeUndefined();
  });
});

describe('request logs (the rate limit)', () => {
  it('lets `limit` requests through per window, counts down what remains, and logs no refusal', async () => {
    const first = await records.requestLog.take('t', 2, 60_000);
    const second = await records.requestLog.take('t', 2, 60_000);
    const third = await records.requestLog.take('t', 2, 60_000);
    expect([first, second, third].map((d) => [d.allowed, d.remaining])).toEqual([
      [true, 1],
      [true, 0],
      [false, 0],
    ]);
    expect(third.resetMs).toBeGreaterThan(0);
    expect(third.resetMs).toBeLessThanOrEqual(60_000);
    expect(await redis.zcard(recordKeys.requestLog('t'))).toBe(2);
    // Other tenants have logs of their own.
    expect((await records.requestLog.take('u', 2, 60_000)).allowed).toBe(true);
  });

  it('lets a request through again once the oldest left the window', async () => {
    expect((await records.requestLog.take('t', 1, 50)).allowed).toBe(true);
    const refused = await records.requestLog.take('t', 1, 50);
    expect(refused.allowed).toBe(false);
    // Wait for what the log itself says (its reset), not a guessed sleep.
    await new Promise((resolve) => setTimeout(resolve, refused.resetMs + 5));
    expect((await records.requestLog.take('t', 1, 50)).allowed).toBe(true);
  });
});

describe('spend ledgers', () => {
  const day = '2026-12-03';

  it('reserves up to the cap, refuses past it without counting, and gives reservations back', async () => {
    expect(await records.spend.reserve('t', day, 600, 1000)).toEqual({ reserved: true, spentMicros: 600 });
    expect(await records.spend.reserve('t', day, 500, 1000)).toEqual({ reserved: false, spentMicros: 600 });
    expect(await records.spend.reserve('t', day, 400, 1000)).toEqual({ reserved: true, spentMicros: 1000 });
    expect(await records.spend.spent('t', day)).toBe(1000);
    await records.spend.release('t', day, 400);
    expect(await records.spend.spent('t', day)).toBe(600);
    expect(await records.spend.spent('t', '2026-12-04')).toBe(0);
    expect(await redis.ttl(recordKeys.spend('t', day))).toBeGreaterThan(24 * 3600);
  });

  it('leaves no negative counter when a reservation comes back after its day expired', async () => {
    await records.spend.reserve('t', day, 600, 1000);
    await redis.del(recordKeys.spend('t', day));
    await records.spend.release('t', day, 600);
    expect(await redis.exists(recordKeys.spend('t', day))).toBe(0);
  });
});
