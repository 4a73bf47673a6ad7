import { Redis, type RedisOptions } from 'ioredis';

export interface RedisConnectionOptions {
  /** `redis://` or `rediss://` URL. */
  url: string;
  /**
   * `worker`: commands wait for Redis to come back (BullMQ workers need
   * `maxRetriesPerRequest: null`). `api`: commands fail fast so requests get a 503.
   */
  role: 'worker' | 'api';
  /** Connection name shown in `CLIENT LIST`. */
  name?: string;
}

/** A Redis connection configured for its role. */
export function createRedis({ url, role, name }: RedisConnectionOptions): Redis {
  const options: RedisOptions =
    role === 'worker'
      ? { maxRetriesPerRequest: null, enableReadyCheck: true }
      : { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2_000 };
  const redis = new Redis(url, { ...options, connectionName: name, lazyConnect: false });
  // Connection errors are retried by ioredis; without a listener Node prints each one as unhandled.
  redis.on('error', () => {});
  return redis;
}

/** True when an error means Redis could not be reached (as opposed to a bad command). */
export function isRedisUnavailableError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  return (
    err.name === 'MaxRetriesPerRequestError' ||
    /Connection is closed|Stream isn't writeable|ECONNREFUSED|ECONNRESET|ETIMEDOUT|enableOfflineQueue/i.test(
      err.message,
    )
  );
}

/**
 * Resolves once `redis` is connected, or after `timeoutMs` (false) so a process can
 * start while Redis is down and answer 503 until it returns. Needed for connections
 * without an offline queue, whose first command would otherwise fail while connecting.
 */
export async function waitForRedis(redis: Redis, timeoutMs = 5_000): Promise<boolean> {
  if (redis.status === 'ready') return true;
  return new Promise<boolean>((resolve) => {
    const done = (ready: boolean) => {
      clearTimeout(timer);
      redis.off('ready', onReady);
      resolve(ready);
    };
    const onReady = () => done(true);
    const timer = setTimeout(() => done(false), timeoutMs);
    redis.on('ready', onReady);
  });
}
