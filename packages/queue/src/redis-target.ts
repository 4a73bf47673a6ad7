/**
 * Which Redis deployment to connect to, from the environment. One place decides it so the API,
 * workers and launcher all open the same kind of connection.
 *
 * - `REDIS_CLUSTER_NODES=host:port,host:port`: Redis Cluster (any reachable node is enough to start;
 *   ioredis discovers the rest and follows MOVED/ASK and failovers).
 * - `REDIS_SENTINELS=host:port,…` + `REDIS_SENTINEL_NAME`: the master Sentinel names; reconnects go
 *   to whichever node the sentinels promote.
 * - else `REDIS_URL` (`redis://` or `rediss://` for TLS): one server.
 *
 * Credentials and TLS for cluster/sentinel nodes: `REDIS_USERNAME`, `REDIS_PASSWORD`, `REDIS_TLS=1`;
 * `REDIS_TLS_CA_FILE` (all modes) trusts a private CA.
 */
export type RedisTarget =
  | { kind: 'standalone'; url: string; caFile?: string }
  | { kind: 'cluster'; nodes: HostPort[]; auth: RedisAuth }
  | { kind: 'sentinel'; sentinels: HostPort[]; name: string; auth: RedisAuth };

export interface HostPort {
  host: string;
  port: number;
}

export interface RedisAuth {
  username?: string;
  password?: string;
  tls: boolean;
  /** PEM file of the CA that signed the servers' certificates (a private CA). */
  caFile?: string;
}

export class RedisTargetError extends Error {
  override readonly name = 'RedisTargetError';
}

/** Parses `host:port,host:port`; `variable` names the setting in errors. */
export function parseHostPorts(value: string, variable: string): HostPort[] {
  const items = value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
  if (items.length === 0) throw new RedisTargetError(`${variable} must list host:port pairs`);
  return items.map((item) => {
    const match = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(item);
    const port = Number(match?.[2]);
    if (!match || port < 1 || port > 65_535) {
      throw new RedisTargetError(`${variable}: ${JSON.stringify(item)} is not host:port`);
    }
    return { host: match[1]!.replace(/^\[|\]$/g, ''), port };
  });
}

/** The deployment named by `env`; `fallbackUrl` is used when none of the variables is set. */
export function redisTargetFromEnv(
  env: NodeJS.ProcessEnv,
  fallbackUrl = env.REDIS_URL?.trim() || 'redis://127.0.0.1:6379',
): RedisTarget {
  const auth: RedisAuth = {
    username: env.REDIS_USERNAME?.trim() || undefined,
    password: env.REDIS_PASSWORD || undefined,
    tls: env.REDIS_TLS === '1' || env.REDIS_TLS === 'true',
    caFile: env.REDIS_TLS_CA_FILE?.trim() || undefined,
  };
  const cluster = env.REDIS_CLUSTER_NODES?.trim();
  const sentinels = env.REDIS_SENTINELS?.trim();
  if (cluster && sentinels) {
    throw new RedisTargetError('set REDIS_CLUSTER_NODES or REDIS_SENTINELS, not both');
  }
  if (cluster) return { kind: 'cluster', nodes: parseHostPorts(cluster, 'REDIS_CLUSTER_NODES'), auth };
  if (sentinels) {
    const name = env.REDIS_SENTINEL_NAME?.trim();
    if (!name)
      throw new RedisTargetError('REDIS_SENTINEL_NAME must name the master when REDIS_SENTINELS is set');
    return { kind: 'sentinel', sentinels: parseHostPorts(sentinels, 'REDIS_SENTINELS'), name, auth };
  }
  if (!/^rediss?:\/\//.test(fallbackUrl))
    throw new RedisTargetError('REDIS_URL must be a redis:// or rediss:// URL');
  return auth.caFile
    ? { kind: 'standalone', url: fallbackUrl, caFile: auth.caFile }
    : { kind: 'standalone', url: fallbackUrl };
}

/** One line for logs, without passwords. */
export function describeRedisTarget(target: RedisTarget): string {
  const list = (nodes: HostPort[]) => nodes.map((n) => `${n.host}:${n.port}`).join(',');
  if (target.kind === 'cluster') return `Redis Cluster (${list(target.nodes)})`;
  if (target.kind === 'sentinel') return `Redis Sentinel master "${target.name}" (${list(target.sentinels)})`;
  try {
    const url = new URL(target.url);
    if (url.password) url.password = '***';
    return `Redis ${url.toString()}`;
  } catch {
    return 'Redis (unparsable REDIS_URL)';
  }
}
