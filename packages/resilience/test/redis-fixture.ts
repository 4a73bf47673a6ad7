import { type RedisServer, startRedisServer } from '@fluxq/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach } from 'vitest';

/** What a Redis-backed test of this package works with. */
export interface RedisFixture {
  /** Separate connections to one server, as separate worker processes would hold. */
  connections: Redis[];
  /** The first connection. */
  readonly redis: Redis;
  /** The second connection (another process). */
  readonly other: Redis;
  /** The test clock, ms; each test starts at the same instant and moves it by hand. */
  clock: number;
  /** A key prefix of this test's own, so tests never see each other's keys. */
  prefix: string;
}

/**
 * One redis-server for the test file with `count` connections, and per test a fresh key
 * prefix and a clock reset to a fixed instant: time moves only when the test says so.
 */
export function useRedisFixture(
  name: string,
  count = 2,
  startMs = Date.UTC(2026, 0, 2, 3, 4, 0),
): RedisFixture {
  let server: RedisServer | undefined;
  let run = 0;
  const fixture: RedisFixture = {
    connections: [],
    get redis() {
      return fixture.connections[0] as Redis;
    },
    get other() {
      return fixture.connections[1] as Redis;
    },
    clock: startMs,
    prefix: '',
  };
  beforeAll(async () => {
    server = await startRedisServer();
    const url = server.url;
    fixture.connections = Array.from({ length: count }, () => new Redis(url, { maxRetriesPerRequest: null }));
  });
  afterAll(async () => {
    await Promise.all(fixture.connections.map((connection) => connection.quit()));
    await server?.stop();
  });
  beforeEach(() => {
    fixture.clock = startMs;
    fixture.prefix = `{fluxq}:${name}-test-${++run}:`;
  });
  return fixture;
}
