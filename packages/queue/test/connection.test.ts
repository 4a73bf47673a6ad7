import { getFreePort, redisForTests, type TestRedis } from '@fluxq/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedis, waitForRedis } from '../src/index.js';

let server: TestRedis;
beforeAll(async () => {
  server = await redisForTests();
});
afterAll(async () => server?.stop());

describe('waitForRedis', () => {
  it('resolves true once an api connection (no offline queue) can take its first command', async () => {
    const redis = createRedis({ url: server.url, role: 'api' });
    try {
      expect(await waitForRedis(redis)).toBe(true);
      // Regression: sent straight after creation this failed with "Stream isn't writeable".
      expect(await redis.ping()).toBe('PONG');
    } finally {
      redis.disconnect();
    }
  });

  it('resolves false after the timeout when nothing answers, so start-up goes on', async () => {
    const redis = createRedis({ url: `redis://127.0.0.1:${await getFreePort()}`, role: 'api' });
    try {
      expect(await waitForRedis(redis, 300)).toBe(false);
    } finally {
      redis.disconnect();
    }
  });
});
