import { afterEach, describe, expect, it, vi } from 'vitest';
import { dockerEngineAnswers, NoRedisForTestsError, redisForTests } from '../src/index.js';

/** Where a test's Redis comes from, in order: REDIS_URL, redis-server on PATH, Testcontainers. */
afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

describe('redisForTests', () => {
  it('takes REDIS_URL first and says so', async () => {
    vi.stubEnv('REDIS_URL', 'redis://127.0.0.1:1');
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const redis = await redisForTests();
    expect(redis).toMatchObject({ url: 'redis://127.0.0.1:1', source: 'REDIS_URL' });
    expect(warn.mock.calls[0]?.[0]).toMatch(/Redis from REDIS_URL/);
  });

  it.runIf(process.env.FLUXQ_TEST_REDIS !== 'testcontainers')(
    'starts a private redis-server from PATH next, and says so',
    async () => {
      vi.stubEnv('REDIS_URL', '');
      const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
      const redis = await redisForTests();
      try {
        expect(redis.source).toBe('redis-server');
        expect(warn.mock.calls[0]?.[0]).toMatch(/Redis from redis-server on 127\.0\.0\.1:\d+/);
      } finally {
        await redis.stop();
      }
    },
  );

  it('with no redis-server and no Docker engine, names the three ways to get Redis', async () => {
    if (await dockerEngineAnswers()) return; // an engine here would rightly be used instead
    vi.stubEnv('REDIS_URL', '');
    vi.stubEnv('FLUXQ_TEST_REDIS', 'testcontainers');
    await expect(redisForTests()).rejects.toThrow(NoRedisForTestsError);
    await expect(redisForTests()).rejects.toThrow(/REDIS_URL.*redis-server.*Docker engine/);
  });
});
