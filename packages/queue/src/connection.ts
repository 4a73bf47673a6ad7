import { readFileSync } from 'node:fs';
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { type RedisTarget, redisTargetFromEnv } from './redis-target.js';

/**
 * The connection `createRedis` returns, as apps name it: they build every client through this
 * package and import nothing of ioredis (dependency rule no-app-imports-ioredis).
 */
export type RedisClient = Redis;

export interface RedisConnectionOptions {
  /** `redis://` or `rediss://` URL; ignored when `target` (or the cluster/sentinel env) says otherwise. */
  url?: string;
  /** Where to connect. @defaultValue `redisTargetFromEnv(process.env, url)` */
  target?: RedisTarget;
  /**
   * `worker`: commands wait for Redis to come back (BullMQ workers need
   * `maxRetriesPerRequest: null`). `api`: commands fail fast so requests get a 503.
   */
  role: 'worker' | 'api';
  /** Connection name shown in `CLIENT LIST`. */
  name?: string;
  /**
   * ioredis auto-pipelining: the commands every caller sends in one event-loop turn go out as one
   * write (each keeps its own reply and error; order per connection is unchanged). For the API's
   * request connection, where many concurrent requests each send a command or two per turn; not for
   * blocking or pub/sub connections. @defaultValue false
   */
  autoPipelining?: boolean;
  /**
   * Commands sent on their own even with `autoPipelining`: those whose arguments grow with a batch
   * (a 50,000-job batch is 100,000 arguments), which the auto-pipeline would copy onto the stack
   * once more than a plain call does.
   */
  notAutoPipelined?: readonly string[];
}

/**
 * The one factory for every Redis connection the API, workers and launcher open (queues, job
 * store, pub/sub, blocking BullMQ connections). For Redis Cluster it returns an ioredis
 * `Cluster`, typed as `Redis`: both take the same commands, and every key we use is under the
 * `{fluxq}` hash tag, so multi-key commands, MULTI and Lua stay on one node.
 */
export function createRedis({
  url,
  target,
  role,
  name,
  autoPipelining,
  notAutoPipelined = [],
}: RedisConnectionOptions): Redis {
  const where = target ?? redisTargetFromEnv(process.env, url);
  const options: RedisOptions =
    role === 'worker'
      ? { maxRetriesPerRequest: null, enableReadyCheck: true }
      : { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2_000 };
  const common: RedisOptions = {
    ...options,
    connectionName: name,
    lazyConnect: false,
    ...(autoPipelining
      ? { enableAutoPipelining: true, autoPipeliningIgnoredCommands: [...notAutoPipelined] }
      : {}),
  };
  const redis = open(where, common);
  // Connection errors are retried by ioredis; without a listener Node prints each one as unhandled.
  redis.on('error', () => {});
  return redis;
}

function open(target: RedisTarget, common: RedisOptions): Redis {
  if (target.kind === 'standalone') {
    const ca = target.caFile && target.url.startsWith('rediss:') ? readFileSync(target.caFile) : undefined;
    return new Redis(target.url, ca ? { ...common, tls: { ca } } : common);
  }
  const { username, password, tls, caFile } = target.auth;
  const tlsOptions = caFile ? { ca: readFileSync(caFile) } : {};
  const secured: RedisOptions = { ...common, username, password, ...(tls ? { tls: tlsOptions } : {}) };
  if (target.kind === 'sentinel') {
    return new Redis({
      ...secured,
      sentinels: target.sentinels,
      name: target.name,
      sentinelUsername: username,
      sentinelPassword: password,
      ...(tls ? { enableTLSForSentinelMode: true, sentinelTLS: tlsOptions } : {}),
      // After a failover the old master may come back as a replica: reconnect on READONLY.
      reconnectOnError: (err) => /READONLY/.test(err.message),
    });
  }
  const cluster = new Cluster(target.nodes, {
    redisOptions: secured,
    enableOfflineQueue: common.enableOfflineQueue ?? true,
    enableReadyCheck: true,
    // While a failover promotes a replica, keep retrying instead of failing commands.
    retryDelayOnFailover: 200,
    retryDelayOnClusterDown: 300,
    retryDelayOnTryAgain: 200,
    maxRedirections: 32,
    slotsRefreshTimeout: 2_000,
    enableAutoPipelining: common.enableAutoPipelining ?? false,
    autoPipeliningIgnoredCommands: common.autoPipeliningIgnoredCommands ?? [],
  });
  return cluster as unknown as Redis;
}

/** True when an error means Redis could not be reached (as opposed to a bad command). */
export function isRedisUnavailableError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  return (
    err.name === 'MaxRetriesPerRequestError' ||
    /Connection is closed|Stream isn't writeable|ECONNREFUSED|ECONNRESET|ETIMEDOUT|enableOfflineQueue/i.test(
      err.message,
    ) ||
    // What a failover looks like from a Cluster or Sentinel connection until a replica is promoted.
    /CLUSTERDOWN|TRYAGAIN|Failed to refresh slots cache|Too many Cluster redirections|None of startup nodes|All sentinels are unreachable|READONLY|LOADING|MASTERDOWN/.test(
      err.message,
    )
  );
}

/**
 * Resolves once `redis` is connected, or after `timeoutMs` (false) so a process can
 * start while Redis is down and answer 503 until it returns. Needed for connections
 * without an offline queue, whose first command would otherwise fail while connecting.
 */
export async function waitForRedis(redis: Redis | Cluster, timeoutMs = 5_000): Promise<boolean> {
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
