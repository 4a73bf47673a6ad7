// Tests of `npm start` (scripts/start.ts and scripts/lib).
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  getFreePort,
  type RedisProbe,
  scrapePrometheus,
  spawnService,
  startRedisServer,
  startWebhookReceiver,
  waitFor,
} from '@fluxq/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderBanner } from '../lib/banner.js';
import { findRedis, redactRedisUrl } from '../lib/find-redis.js';
import { formatLogLine, prefixLines } from '../lib/log-format.js';
import { loadSigningSecret } from '../lib/signing-secret.js';

const MISSING_REDIS = (port: number) =>
  `fluxq: no Redis at 127.0.0.1:${port} and no redis-server on PATH — start one with ` +
  '`docker compose up -d redis` or install it (`apt-get install redis-server`, `brew install redis`), ' +
  'or set REDIS_URL.';

describe('findRedis', () => {
  const answers = (answer: RedisProbe) => async (): Promise<RedisProbe> => answer;

  it.each<[string, NodeJS.ProcessEnv, RedisProbe, string | undefined, unknown]>([
    [
      'uses REDIS_URL when set, without probing',
      { REDIS_URL: 'redis://cache:6380' },
      { status: 'other', detail: 'must not be probed' },
      undefined,
      { kind: 'url', url: 'redis://cache:6380', source: 'env' },
    ],
    [
      'uses a Redis answering on the local port',
      {},
      { status: 'pong' },
      '/usr/bin/redis-server',
      { kind: 'url', url: 'redis://127.0.0.1:6379', source: 'local' },
    ],
    [
      'launches redis-server when the port is free and the binary exists',
      {},
      { status: 'refused' },
      '/usr/bin/redis-server',
      { kind: 'launch', bin: '/usr/bin/redis-server', port: 6379 },
    ],
    [
      'launches nothing for a Redis Cluster (the services connect to REDIS_CLUSTER_NODES)',
      { REDIS_CLUSTER_NODES: 'a:7000,b:7001' },
      { status: 'refused' },
      '/usr/bin/redis-server',
      { kind: 'url', url: 'redis://127.0.0.1:6379', source: 'env' },
    ],
    [
      'launches nothing for Sentinel',
      { REDIS_SENTINELS: 's1:26379', REDIS_SENTINEL_NAME: 'fluxq' },
      { status: 'pong' },
      '/usr/bin/redis-server',
      { kind: 'url', url: 'redis://127.0.0.1:6379', source: 'env' },
    ],
    [
      'says how to get Redis when there is neither',
      { REDIS_URL: '  ' },
      { status: 'refused' },
      undefined,
      { kind: 'unavailable', message: MISSING_REDIS(6379) },
    ],
  ])('%s', async (_case, env, answer, bin, expected) => {
    expect(await findRedis({ env, probe: answers(answer), findBinary: () => bin })).toEqual(expected);
  });

  it('refuses a port held by something that is not an open Redis', async () => {
    const choice = await findRedis({
      env: {},
      port: 6390,
      probe: answers({ status: 'other', detail: 'NOAUTH Authentication required.' }),
      findBinary: () => '/usr/bin/redis-server',
    });
    expect(choice).toEqual({
      kind: 'unavailable',
      message: expect.stringContaining(
        '127.0.0.1:6390 is not an open Redis (NOAUTH Authentication required.)',
      ),
    });
  });

  it('finds a real Redis on the port', async () => {
    const server = await startRedisServer();
    try {
      expect(await findRedis({ env: {}, port: server.port })).toEqual({
        kind: 'url',
        url: server.url,
        source: 'local',
      });
    } finally {
      await server.stop();
    }
  });

  it('redacts passwords for display', () => {
    expect(redactRedisUrl('redis://:hunter2@cache:6379/0')).toBe('redis://:***@cache:6379/0');
    expect(redactRedisUrl('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
  });
});

describe('loadSigningSecret', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fluxq-secret-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('prefers FILES_SIGNING_SECRET', async () => {
    const file = join(dir, 'unused');
    expect(await loadSigningSecret({ FILES_SIGNING_SECRET: 'from-env' }, file)).toEqual({
      value: 'from-env',
      source: 'env',
    });
    await expect(stat(file)).rejects.toThrow();
  });

  it('creates a 0600 file with 32 random bytes in hex, and reuses it', async () => {
    const file = join(dir, 'nested', 'files-signing-secret');
    const created = await loadSigningSecret({}, file);
    expect(created.source).toBe('created');
    expect(created.value).toMatch(/^[0-9a-f]{64}$/);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await readFile(file, 'utf8')).trim()).toBe(created.value);
    expect(await loadSigningSecret({}, file)).toEqual({ value: created.value, source: 'file' });
  });

  it('refuses an empty file rather than signing with nothing', async () => {
    const file = join(dir, 'empty');
    await writeFile(file, '\n');
    await expect(loadSigningSecret({}, file)).rejects.toThrow(/is empty/);
  });
});

describe('log lines', () => {
  it('shows pino lines as level, message and the other fields', () => {
    const line = JSON.stringify({ level: 40, time: 1, pid: 2, hostname: 'h', msg: 'slow', jobId: 'job_1' });
    expect(formatLogLine(line)).toBe('WARN  slow {"jobId":"job_1"}');
  });

  it('adds the error stack, and leaves other lines alone', () => {
    const line = JSON.stringify({
      level: 50,
      msg: 'failed',
      err: { message: 'x', stack: 'Error: x\n    at y' },
    });
    expect(formatLogLine(line)).toBe('ERROR failed\nError: x\n    at y');
    expect(formatLogLine('plain text')).toBe('plain text');
    expect(formatLogLine('{"not":"pino"}')).toBe('{"not":"pino"}');
  });

  it('prefixes every line with the service name', () => {
    expect(prefixLines('api', 'a\nb')).toBe('[api]     a\n[api]     b');
  });
});

describe('renderBanner', () => {
  const info = {
    apiUrl: 'http://127.0.0.1:8080',
    redis: 'redis://127.0.0.1:6379',
    falSimUrl: 'http://127.0.0.1:8090',
    storageDir: '.data/storage',
  };

  it('gives the URL, open mode and a curl command to paste', () => {
    const banner = renderBanner({ ...info, apiKeys: false });
    expect(banner).toContain('http://127.0.0.1:8080');
    expect(banner).toContain('API key   none (local open mode — set API_KEYS to require keys)');
    expect(banner).toContain(
      `  curl -s http://127.0.0.1:8080/v1/jobs \\\n    -H 'Content-Type: application/json' \\\n` +
        `    -d '{"model":"flux.2-dev-turbo","prompt":"a lighthouse at dawn, watercolor","size":"1024x1024"}'`,
    );
    expect(banner).toContain('curl -s http://127.0.0.1:8080/v1/jobs/<id>');
    expect(banner).toContain('simulator at http://127.0.0.1:8090');
    expect(banner).toContain(
      "Metrics   http://127.0.0.1:8080/metrics (API), the worker's port in its log (worker)",
    );
    expect(
      renderBanner({ ...info, apiKeys: false, workerMetricsUrl: 'http://127.0.0.1:9464/metrics' }),
    ).toContain('http://127.0.0.1:9464/metrics (worker)');
  });

  it('adds the Authorization header when keys are configured', () => {
    const banner = renderBanner({ ...info, apiKeys: true, falSimUrl: undefined });
    expect(banner).toContain('-H "Authorization: Bearer $FLUXQ_API_KEY"');
    expect(banner).toContain('fal.ai (FAL_KEY is set)');
  });
});

describe('npm start', () => {
  it('prints one line and exits 1 when there is no Redis and no redis-server', async () => {
    const port = await getFreePort();
    const launcher = await spawnService({
      name: 'start',
      entry: 'scripts/start.ts',
      env: {
        PATH: '/nonexistent',
        REDIS_URL: undefined,
        REDIS_SERVER_BIN: undefined,
        FLUXQ_START_REDIS_PORT: String(port),
      },
    });
    expect(await launcher.exited).toBe(1);
    expect(launcher.logs()).toEqual([MISSING_REDIS(port)]);
  });
});

describe('npm start, serving', () => {
  // The launcher's start deadline is short here; before readiness had a signal of its own, a
  // worker at LOG_LEVEL=error never printed "worker ready" and everything stopped at the deadline.
  const START_TIMEOUT_MS = 20_000;

  it('keeps serving past its start deadline at LOG_LEVEL=error, and webhook file URLs use its PORT', async () => {
    const redis = await startRedisServer();
    const receiver = await startWebhookReceiver();
    const storage = await mkdtemp(join(tmpdir(), 'fluxq-start-storage-'));
    const port = await getFreePort();
    const apiUrl = `http://127.0.0.1:${port}`;
    const metricsPort = await getFreePort();
    const launcher = await spawnService({
      name: 'start',
      entry: 'scripts/start.ts',
      env: {
        LOG_LEVEL: 'error',
        METRICS_PORT: String(metricsPort),
        REDIS_URL: redis.url,
        PORT: String(port),
        FAL_SIM_PORT: String(await getFreePort()),
        FAL_KEY: undefined,
        FAL_SIM_TIME_SCALE: '0.01',
        PUBLIC_BASE_URL: undefined,
        STORAGE_DIR: storage,
        FILES_SIGNING_SECRET: 'launcher-test-signing-secret-0123456789',
        FLUXQ_START_TIMEOUT_MS: String(START_TIMEOUT_MS),
      },
      // The banner's curl line: every service reported ready.
      ready: { logLine: /curl -s http:\/\/127\.0\.0\.1:\d+\/v1\/jobs\/<id>/ },
      timeoutMs: START_TIMEOUT_MS + 10_000,
      stopTimeoutMs: 20_000,
    });
    const startedAt = Date.now();
    try {
      const submitted = await fetch(`${apiUrl}/v1/jobs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          model: 'flux.2-dev-turbo',
          prompt: 'a lighthouse',
          size: '512x512',
          webhook_url: `${receiver.url}/hook`,
        }),
      });
      expect(submitted.status).toBe(202);
      const [delivery] = await receiver.waitForRequests(1, 30_000);
      const event = JSON.parse(delivery!.body) as {
        type: string;
        data: { output: { images: Array<{ url: string }> } };
      };
      expect(event.type).toBe('job.succeeded');
      const fileUrl = event.data.output.images[0]!.url;
      expect(fileUrl.startsWith(`${apiUrl}/v1/files/`)).toBe(true);
      const file = await fetch(fileUrl);
      expect(file.status).toBe(200);
      expect((await file.arrayBuffer()).byteLength).toBeGreaterThan(0);
      // The worker's metrics are on, at the port given: they counted the job.
      const metrics = await scrapePrometheus(`http://127.0.0.1:${metricsPort}/metrics`);
      expect(metrics.sum('fluxq_jobs_finished_total', { status: 'succeeded' })).toBe(1);

      // Outlive the start deadline: the launcher must still be running and the API ready.
      const exitedEarly = await Promise.race([
        launcher.exited.then(() => true),
        new Promise<false>((resolve) =>
          setTimeout(() => resolve(false), Math.max(0, startedAt + START_TIMEOUT_MS + 3_000 - Date.now())),
        ),
      ]);
      expect(exitedEarly, launcher.logs().join('\n')).toBe(false);
      await waitFor(async () => (await fetch(`${apiUrl}/readyz`)).status === 200, { timeoutMs: 5_000 });
    } finally {
      await launcher.stop();
      await receiver.stop();
      await redis.stop();
      await rm(storage, { recursive: true, force: true });
    }
  });
});
