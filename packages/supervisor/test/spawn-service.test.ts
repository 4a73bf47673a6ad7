import { existsSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import {
  getFreePort,
  probeRedis,
  type Service,
  ServiceStartError,
  spawnService,
  waitFor,
} from '../src/index.js';

const entry = 'packages/supervisor/test/fixtures/service.ts';

/** Whether `pid` runs; a zombie (exited, not yet reaped by an orphan's new parent) does not. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

describe('spawnService', () => {
  const started: Service[] = [];
  const start = async (options: Partial<Parameters<typeof spawnService>[0]>) => {
    const service = await spawnService({ name: 'fixture', entry, ...options });
    started.push(service);
    return service;
  };
  afterEach(async () => {
    await Promise.all(started.splice(0).map((service) => service.kill()));
  });

  it('is ready when its URL answers 200, and stops with its exit code on SIGTERM', async () => {
    const port = await getFreePort();
    const url = `http://127.0.0.1:${port}/ready`;
    const service = await start({
      env: { FIXTURE_MODE: 'http', FIXTURE_PORT: String(port), FIXTURE_READY_AFTER_MS: '300' },
      ready: { url },
    });
    expect((await fetch(url)).status).toBe(200);
    expect(await service.stop()).toBe(0);
    expect(service.logs()).toContain('fixture stopping');
    expect(service.logs()).toContain('fixture says hello on stderr');
    expect(await service.exited).toBe(0);
  });

  it('is ready when a log line matches', async () => {
    const service = await start({
      env: { FIXTURE_MODE: 'log', FIXTURE_READY_AFTER_MS: '200' },
      ready: { logLine: /"msg":"fixture ready"/ },
    });
    expect(service.logs().at(-1)).toBe('{"level":30,"msg":"fixture ready"}');
    expect(service.pid).toBeGreaterThan(0);
  });

  it('passes env, removing variables set to undefined', async () => {
    process.env.FLUXQ_FIXTURE_REMOVED = 'present';
    try {
      const service = await start({
        env: { FIXTURE_MODE: 'crash', FIXTURE_GREETING: 'hi', FLUXQ_FIXTURE_REMOVED: undefined },
      });
      expect(await service.exited).toBe(3);
      expect(service.logs()).toContain('env FIXTURE_GREETING=hi FLUXQ_FIXTURE_REMOVED=undefined');
      expect(service.logs()).toContain('fixture crashing');
    } finally {
      delete process.env.FLUXQ_FIXTURE_REMOVED;
    }
  });

  it('kills the service itself (not a wrapper) with SIGKILL', async () => {
    const service = await start({ env: { FIXTURE_MODE: 'log' }, ready: { logLine: /fixture ready/ } });
    await service.kill();
    expect(await service.exited).toBeNull();
    expect(service.exitSignal()).toBe('SIGKILL');
    expect(isAlive(service.pid)).toBe(false);
  });

  it('falls back to SIGKILL when the service ignores SIGTERM', async () => {
    const service = await spawnService({
      name: 'fixture',
      entry,
      env: { FIXTURE_MODE: 'stubborn' },
      ready: { logLine: /fixture started/ },
      stopTimeoutMs: 300,
    });
    started.push(service);
    expect(await service.stop()).toBeNull();
    expect(service.exitSignal()).toBe('SIGKILL');
    expect(service.logs()).toContain('fixture ignoring SIGTERM');
  });

  describe('when the service does not become ready', () => {
    it('rejects after the timeout with the last log lines, and kills it', async () => {
      const error = await start({
        env: { FIXTURE_MODE: 'silent' },
        ready: { logLine: /never printed/ },
        // Long enough for tsx to start the fixture and print its lines on a loaded CI machine.
        timeoutMs: 5_000,
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ServiceStartError);
      const { message, logs } = error as ServiceStartError;
      expect(message).toContain('fixture was not ready within 5000 ms');
      expect(message).toContain('/never printed/');
      expect(message).toContain('silent line 40');
      expect(message).not.toContain('silent line 5\n');
      expect(logs).toContain('silent line 1');
    });

    it('rejects at once when it exits first', async () => {
      const error = await start({
        env: { FIXTURE_MODE: 'crash' },
        ready: { logLine: /never printed/ },
      }).catch((e: unknown) => e);
      expect((error as Error).message).toMatch(/^fixture exited with code 3 before it was ready/);
      expect((error as Error).message).toContain('fixture crashing');
    });

    it('stops the service and rejects with the reason when aborted', async () => {
      const aborter = new AbortController();
      const starting = start({
        env: { FIXTURE_MODE: 'silent' },
        ready: { logLine: /never/ },
        signal: aborter.signal,
      });
      aborter.abort(new Error('shutting down'));
      await expect(starting).rejects.toThrow('shutting down');
    });
  });

  it('leaves no service, redis-server or temp dir behind when its parent exits without stopping them', async () => {
    const parent = await start({
      name: 'parent',
      entry: 'packages/supervisor/test/fixtures/forgetful-parent.ts',
    });
    expect(await parent.exited).toBe(0);
    const report = parent.logs().find((line) => line.startsWith('{"servicePid"'));
    const { servicePid, redisPort, redisDir } = JSON.parse(report ?? '{}') as {
      servicePid: number;
      redisPort: number;
      redisDir: string;
    };
    await waitFor(() => !isAlive(servicePid), { message: `pid ${servicePid} to be gone` });
    expect(await probeRedis({ port: redisPort })).toEqual({ status: 'refused' });
    expect(existsSync(redisDir)).toBe(false);
  });
});
