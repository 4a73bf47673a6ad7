import { redisForTests, type TestRedis } from '@fluxq/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createWebhookDeliveryStore,
  createWebhookSettingsStore,
  deliveryIdsFor,
  type WebhookDelivery,
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
beforeEach(async () => {
  await redis.flushall();
});

const ids = deliveryIdsFor('job_0mx7abc', 'job.succeeded');
const delivery = (overrides: Partial<WebhookDelivery> = {}): WebhookDelivery => ({
  id: ids.id,
  tenant: 'tenant-a',
  event_id: ids.eventId,
  type: 'job.succeeded',
  job_id: 'job_0mx7abc',
  url: 'https://example.test/hook',
  status: 'pending',
  attempts: [],
  created_at: 1_800_000_000,
  created_ms: 1_800_000_000_000,
  next_attempt_at: 1_800_000_000,
  completed_at: null,
  failure_reason: null,
  resends: 0,
  step: 0,
  snapshot: null,
  ...overrides,
});

describe('webhook deliveries', () => {
  it('creates a delivery once, indexed by tenant and job, under the keys Redis holds', async () => {
    const store = createWebhookDeliveryStore(redis);
    const record = delivery();
    expect(await store.createIfAbsent(record)).toBe(true);
    expect(await store.createIfAbsent({ ...record, url: 'https://other.test' })).toBe(false);
    expect(await store.get(record.id)).toEqual(record);
    expect(await redis.zscore('{fluxq}:webhook-deliveries:tenant-a', record.id)).toBe('1800000000000');
    expect(await redis.smembers('{fluxq}:job-webhooks:job_0mx7abc')).toEqual([record.id]);
    expect(await redis.ttl(`{fluxq}:webhook-delivery:${record.id}`)).toBeGreaterThan(0);
    expect((await store.list({ tenant: 'tenant-a', limit: 10 })).data.map((d) => d.id)).toEqual([record.id]);
  });
});

describe('webhook settings', () => {
  it('rotates the secret, the previous one signing until the overlap ends', async () => {
    let n = 0;
    let now = 1_000;
    const settings = createWebhookSettingsStore(redis, { generate: () => `whsec_${++n}`, now: () => now });
    expect(await settings.secret('tenant-a')).toEqual({ secret: 'whsec_1', previousUntilMs: null });
    expect(await settings.rotate('tenant-a', 500)).toEqual({ secret: 'whsec_2', previousUntilMs: 1_500 });
    expect(await settings.signingSecrets('tenant-a')).toEqual(['whsec_2', 'whsec_1']);
    now = 1_501;
    expect(await settings.signingSecrets('tenant-a')).toEqual(['whsec_2']);
    expect(await redis.hget('{fluxq}:webhook-tenant:tenant-a', 'secret')).toBe('whsec_2');
  });
});
