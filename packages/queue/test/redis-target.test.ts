import { describe, expect, it } from 'vitest';
import {
  clusterKeySlot,
  describeRedisTarget,
  isRedisUnavailableError,
  RedisTargetError,
  redisTargetFromEnv,
} from '../src/index.js';

describe('redisTargetFromEnv', () => {
  it('uses REDIS_URL (redis:// or rediss://) when no cluster or sentinel is set', () => {
    expect(redisTargetFromEnv({ REDIS_URL: 'rediss://:pw@cache:6380' })).toEqual({
      kind: 'standalone',
      url: 'rediss://:pw@cache:6380',
    });
    expect(redisTargetFromEnv({})).toEqual({ kind: 'standalone', url: 'redis://127.0.0.1:6379' });
  });

  it('reads REDIS_CLUSTER_NODES as host:port pairs, with shared credentials and TLS', () => {
    const target = redisTargetFromEnv({
      REDIS_CLUSTER_NODES: 'a:7000, b:7001,[::1]:7002',
      REDIS_PASSWORD: 'secret',
      REDIS_TLS: '1',
    });
    expect(target).toEqual({
      kind: 'cluster',
      nodes: [
        { host: 'a', port: 7000 },
        { host: 'b', port: 7001 },
        { host: '::1', port: 7002 },
      ],
      auth: { username: undefined, password: 'secret', tls: true },
    });
    expect(describeRedisTarget(target)).not.toContain('secret');
  });

  it('reads REDIS_SENTINELS with REDIS_SENTINEL_NAME, and refuses either without its parts', () => {
    expect(
      redisTargetFromEnv({ REDIS_SENTINELS: 's1:26379,s2:26379', REDIS_SENTINEL_NAME: 'fluxq' }),
    ).toMatchObject({
      kind: 'sentinel',
      name: 'fluxq',
      sentinels: [
        { host: 's1', port: 26379 },
        { host: 's2', port: 26379 },
      ],
    });
    expect(() => redisTargetFromEnv({ REDIS_SENTINELS: 's1:26379' })).toThrow(/REDIS_SENTINEL_NAME/);
    expect(() => redisTargetFromEnv({ REDIS_CLUSTER_NODES: 'a:1', REDIS_SENTINELS: 'b:2' })).toThrow(
      RedisTargetError,
    );
    expect(() => redisTargetFromEnv({ REDIS_CLUSTER_NODES: 'nope' })).toThrow(/REDIS_CLUSTER_NODES: "nope"/);
    expect(() => redisTargetFromEnv({ REDIS_URL: 'http://x' })).toThrow(/REDIS_URL/);
  });

  it('counts failover errors as Redis being unavailable (a 503, not a 500)', () => {
    expect(isRedisUnavailableError(new Error('CLUSTERDOWN The cluster is down'))).toBe(true);
    expect(isRedisUnavailableError(new Error('All sentinels are unreachable. Retrying from scratch'))).toBe(
      true,
    );
    expect(isRedisUnavailableError(new Error('WRONGTYPE Operation against a key'))).toBe(false);
  });
});

describe('clusterKeySlot', () => {
  it('matches Redis Cluster slots, hash tags included', () => {
    expect(clusterKeySlot('123456789')).toBe(0x31c3 % 16_384);
    expect(clusterKeySlot('foo')).toBe(12_182);
    expect(clusterKeySlot('somekey')).toBe(11_058);
    expect(clusterKeySlot('{fluxq}:images:wait')).toBe(clusterKeySlot('{fluxq}'));
    expect(clusterKeySlot('{fluxq}')).toBe(clusterKeySlot('fluxq'));
  });
});
