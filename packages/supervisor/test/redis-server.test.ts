import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  findRedisServerBinary,
  getFreePort,
  probeRedis,
  type RedisServer,
  RedisServerNotFoundError,
  redisCommand,
  startRedisServer,
  waitFor,
} from '../src/index.js';

describe('startRedisServer', () => {
  let server: RedisServer | undefined;
  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });

  it('starts a private redis-server that answers PING on 127.0.0.1', async () => {
    server = await startRedisServer();
    expect(server.url).toBe(`redis://127.0.0.1:${server.port}`);
    expect(await probeRedis({ port: server.port })).toEqual({ status: 'pong' });
    expect(await redisCommand({ port: server.port }, 'CONFIG', 'GET', 'maxmemory-policy')).toEqual([
      'maxmemory-policy',
      'noeviction',
    ]);
    expect(await redisCommand({ port: server.port }, 'CONFIG', 'GET', 'save')).toEqual(['save', '']);
  });

  it('removes its temp dir and stops answering when stopped, and stop() is idempotent', async () => {
    server = await startRedisServer();
    const { port, dir } = server;
    expect(existsSync(dir)).toBe(true);
    await Promise.all([server.stop(), server.stop()]);
    expect(await probeRedis({ port })).toEqual({ status: 'refused' });
    expect(existsSync(dir)).toBe(false);
  });

  describe('when the append-only file is on', () => {
    it('keeps data across a graceful restart on the same port', async () => {
      server = await startRedisServer({ appendonly: true });
      const { port } = server;
      expect(await redisCommand({ port }, 'CONFIG', 'GET', 'appendonly')).toEqual(['appendonly', 'yes']);
      await redisCommand({ port }, 'SET', 'fluxq:test:greeting', 'hello');
      await server.restart();
      expect(server.port).toBe(port);
      expect(await redisCommand({ port }, 'GET', 'fluxq:test:greeting')).toBe('hello');
    });

    it('keeps fsynced data across SIGKILL and restart', async () => {
      const onUnexpectedExit = () => {
        throw new Error('kill() is not unexpected');
      };
      server = await startRedisServer({ appendonly: true, appendfsync: 'always', onUnexpectedExit });
      const { port } = server;
      await redisCommand({ port }, 'RPUSH', 'fluxq:test:list', 'a', 'b', 'c');
      await server.kill();
      expect(await probeRedis({ port })).toEqual({ status: 'refused' });
      await server.restart();
      expect(await redisCommand({ port }, 'LRANGE', 'fluxq:test:list', '0', '-1')).toEqual(['a', 'b', 'c']);
    });
  });

  it('reports an exit it did not ask for', async () => {
    let reported: unknown;
    server = await startRedisServer({
      onUnexpectedExit: (exit) => {
        reported = exit;
      },
    });
    await redisCommand({ port: server.port }, 'SHUTDOWN', 'NOSAVE').catch(() => undefined);
    expect(await waitFor(() => reported, { message: 'the exit to be reported' })).toEqual({
      code: 0,
      signal: null,
    });
  });

  describe('when the binary is missing', () => {
    afterEach(() => {
      vi.unstubAllEnvs();
    });

    it('says how to install it when it is not on PATH', async () => {
      vi.stubEnv('PATH', '/nonexistent');
      vi.stubEnv('REDIS_SERVER_BIN', undefined);
      const error = await startRedisServer().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RedisServerNotFoundError);
      expect((error as Error).message).toBe(
        'redis-server not found on PATH: install it with `apt-get install redis-server` or set REDIS_URL',
      );
    });

    it('names REDIS_SERVER_BIN when that points nowhere', async () => {
      const error = await startRedisServer({ bin: '/nonexistent/redis-server' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RedisServerNotFoundError);
      expect((error as Error).message).toContain('/nonexistent/redis-server');
    });
  });
});

describe('probeRedis', () => {
  it('answers refused when nothing listens', async () => {
    const port = await getFreePort();
    expect(await probeRedis({ port })).toEqual({ status: 'refused' });
  });

  it('answers other when something that is not Redis listens', async () => {
    const http = createServer((_req, res) => res.end('hi'));
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = http.address() as AddressInfo;
      expect(await probeRedis({ port })).toMatchObject({ status: 'other' });
    } finally {
      http.close();
    }
  });
});

describe('findRedisServerBinary', () => {
  it('prefers REDIS_SERVER_BIN, then PATH', () => {
    expect(findRedisServerBinary({ PATH: '/nonexistent' })).toBeUndefined();
    expect(findRedisServerBinary({ PATH: '/nonexistent', REDIS_SERVER_BIN: '/bin/sh' })).toBe('/bin/sh');
  });
});
