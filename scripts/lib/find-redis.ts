import { findRedisServerBinary, probeRedis, type RedisProbe } from '@fluxq/supervisor';

/** Where the launcher gets Redis from. */
export type RedisChoice =
  /** Use this URL: from `REDIS_URL`, or a Redis already answering on the local port. */
  | { kind: 'url'; url: string; source: 'env' | 'local' }
  /** Nothing on the local port: launch a private `redis-server` there. */
  | { kind: 'launch'; bin: string; port: number }
  /** No way to get Redis; `message` is the one line to print. */
  | { kind: 'unavailable'; message: string };

export interface FindRedisOptions {
  env: NodeJS.ProcessEnv;
  /** Local port to probe and to launch on. Unit: TCP port. @defaultValue 6379 */
  port?: number;
  /** Injected for tests. @defaultValue a PING over TCP to 127.0.0.1 */
  probe?: (port: number) => Promise<RedisProbe>;
  /** Injected for tests. @defaultValue `REDIS_SERVER_BIN`, else `redis-server` on PATH */
  findBinary?: (env: NodeJS.ProcessEnv) => string | undefined;
}

/**
 * DESIGN §2: `REDIS_URL` (or `REDIS_CLUSTER_NODES` / `REDIS_SENTINELS`) if set; else a Redis answering on 127.0.0.1:6379; else a private
 * `redis-server` if the binary is on PATH; else one line that says how to get Redis.
 */
export async function findRedis(options: FindRedisOptions): Promise<RedisChoice> {
  const {
    env,
    port = 6379,
    probe = (p: number) => probeRedis({ port: p }),
    findBinary = findRedisServerBinary,
  } = options;
  const configured = env.REDIS_URL?.trim();
  // Cluster and Sentinel are never launched here: the API and workers connect to them (see connection.ts).
  const clustered = env.REDIS_CLUSTER_NODES?.trim() || env.REDIS_SENTINELS?.trim();
  if (configured || clustered) {
    return { kind: 'url', url: configured || 'redis://127.0.0.1:6379', source: 'env' };
  }

  const answer = await probe(port);
  if (answer.status === 'pong') return { kind: 'url', url: `redis://127.0.0.1:${port}`, source: 'local' };
  if (answer.status === 'other') {
    return {
      kind: 'unavailable',
      message:
        `fluxq: something on 127.0.0.1:${port} is not an open Redis (${answer.detail}) — ` +
        `set REDIS_URL (e.g. redis://:password@127.0.0.1:${port}) or free the port.`,
    };
  }
  const bin = findBinary(env);
  if (bin) return { kind: 'launch', bin, port };
  return {
    kind: 'unavailable',
    message:
      `fluxq: no Redis at 127.0.0.1:${port} and no redis-server on PATH — start one with ` +
      '`docker compose up -d redis` or install it (`apt-get install redis-server`, `brew install redis`), ' +
      'or set REDIS_URL.',
  };
}

/** `redis://:***@host:port` — never print a password. */
export function redactRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(REDIS_URL, not a valid URL)';
  }
}
