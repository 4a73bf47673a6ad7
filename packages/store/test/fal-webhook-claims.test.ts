import { redisForTests, type TestRedis } from '@fluxq/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimFalWebhook, falWebhookKey, releaseFalWebhook } from '../src/index.js';

let server: TestRedis;
let redis: Redis;
const connections: Redis[] = [];

const connect = () => {
  const connection = new Redis(server.url, { maxRetriesPerRequest: null });
  connections.push(connection);
  return connection;
};

let ids = 0;
const newRequestId = () => `req-${process.pid}-${++ids}`;

beforeAll(async () => {
  server = await redisForTests();
  redis = connect();
});
afterAll(async () => {
  for (const connection of connections) await connection.quit().catch(() => connection.disconnect());
  await server?.stop();
});

describe('claimFalWebhook', () => {
  it('is true for the first delivery only, across connections', async () => {
    const id = newRequestId();
    const [a, b] = [connect(), connect()];
    const claims = await Promise.all([
      claimFalWebhook(a, id),
      claimFalWebhook(b, id),
      claimFalWebhook(a, id),
      claimFalWebhook(b, id),
    ]);
    expect(claims.filter(Boolean)).toHaveLength(1);
    expect(await claimFalWebhook(b, id)).toBe(false);
    expect(await claimFalWebhook(a, newRequestId())).toBe(true);
  });

  it('expires after ttlS (2 h by default)', async () => {
    const id = newRequestId();
    await claimFalWebhook(redis, id);
    const ttl = await redis.ttl(falWebhookKey(id));
    expect(ttl).toBeGreaterThan(7_100);
    expect(ttl).toBeLessThanOrEqual(7_200);
    const short = newRequestId();
    await claimFalWebhook(redis, short, 60);
    expect(await redis.ttl(falWebhookKey(short))).toBeLessThanOrEqual(60);
  });

  it('can be claimed again after releaseFalWebhook', async () => {
    const id = newRequestId();
    expect(await claimFalWebhook(redis, id)).toBe(true);
    await releaseFalWebhook(redis, id);
    expect(await claimFalWebhook(redis, id)).toBe(true);
  });

  it('keys under the {fluxq} hash tag', () => {
    expect(falWebhookKey('abc')).toBe('{fluxq}:fal-webhook:abc');
  });
});
