import { findRedisServerBinary, startRedisServer } from '@fluxq/supervisor';
import { dockerEngineAnswers, startRedisContainer } from './redis-container.js';

/** Where a test's Redis came from. */
export type RedisSource = 'REDIS_URL' | 'redis-server' | 'testcontainers';

export interface TestRedis {
  url: string;
  source: RedisSource;
  stop(): Promise<void>;
}

export class NoRedisForTestsError extends Error {
  override readonly name = 'NoRedisForTestsError';
  readonly code = 'TESTING_ERR_NO_REDIS';
}

/**
 * Redis for a test file, and it says which it used:
 * 1. `REDIS_URL` when set (shared with every other test, so use unique key prefixes and queue names);
 * 2. else a private `redis-server` from PATH (or `REDIS_SERVER_BIN`), which `stop()` removes;
 * 3. else a container through Testcontainers when a Docker engine answers.
 * `FLUXQ_TEST_REDIS=testcontainers` skips step 2 (CI uses it to exercise the container path).
 */
export async function redisForTests(options: { appendonly?: boolean } = {}): Promise<TestRedis> {
  const shared = process.env.REDIS_URL?.trim();
  if (shared) {
    console.warn(
      `@fluxq/testing: Redis from REDIS_URL=${shared}; tests share it, so give them unique prefixes and queue names`,
    );
    return { url: shared, source: 'REDIS_URL', stop: async () => {} };
  }
  const forced = process.env.FLUXQ_TEST_REDIS?.trim();
  if (forced && forced !== 'testcontainers' && forced !== 'redis-server') {
    throw new NoRedisForTestsError(`FLUXQ_TEST_REDIS must be testcontainers or redis-server, got ${forced}`);
  }
  if (forced !== 'testcontainers' && (forced === 'redis-server' || findRedisServerBinary())) {
    const server = await startRedisServer({ appendonly: options.appendonly });
    console.warn(`@fluxq/testing: Redis from redis-server on 127.0.0.1:${server.port}`);
    return { url: server.url, source: 'redis-server', stop: () => server.stop() };
  }
  if (!(await dockerEngineAnswers())) {
    throw new NoRedisForTestsError(
      'no Redis for tests: set REDIS_URL, install redis-server (`apt-get install redis-server`), or start a Docker engine for Testcontainers',
    );
  }
  const container = await startRedisContainer();
  console.warn(`@fluxq/testing: Redis from Testcontainers at ${container.url}`);
  return { url: container.url, source: 'testcontainers', stop: container.stop };
}
