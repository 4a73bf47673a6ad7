import { startRedisServer } from './redis-server.js';

/**
 * Redis for a test file: `REDIS_URL` when set (shared with every other test, so use unique
 * key prefixes and queue names), else a private server that `stop()` removes.
 */
export async function redisForTests(): Promise<{ url: string; stop(): Promise<void> }> {
  const shared = process.env.REDIS_URL?.trim();
  if (shared) {
    console.warn(
      `@fluxq/testing: using REDIS_URL=${shared}; tests share it, so give them unique prefixes and queue names`,
    );
    return { url: shared, stop: async () => {} };
  }
  const server = await startRedisServer();
  return { url: server.url, stop: () => server.stop() };
}
