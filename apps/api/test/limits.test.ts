import { priceRequest } from '@fluxq/core';
import { createRedis } from '@fluxq/queue';
import { createLogger } from '@fluxq/runtime';
import { createRecords, markQueued, queuedCount, queuedJobs } from '@fluxq/store';
import { type RedisServer, startRedisServer } from '@fluxq/testing';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { errorHandler } from '../src/http/error-handler.js';
import { rateLimit } from '../src/tenants/limits/rate-limit.js';
import { reserveSpend, spentToday } from '../src/tenants/limits/spend-cap.js';
import { createTenantRegistry } from '../src/tenants/tenant-registry.js';
import { type ApiHarness, startApi } from './api-harness.js';
import { type ErrorBody, type TenantClient, tenantClient } from './tenant-client.js';

// No worker runs here: accepted jobs stay queued.

const turbo1mp = { model: 'flux.2-dev-turbo', prompt: 'a lighthouse', size: '1024x1024' };
const flash1mp = { model: 'flux.2-dev-flash', prompt: 'a lighthouse', size: '1024x1024' };

describe('per-tenant request rate, shared by two API processes on one Redis', () => {
  const LIMIT = 10;
  let redis: RedisServer;
  let first: ApiHarness;
  let second: ApiHarness;

  beforeAll(async () => {
    redis = await startRedisServer();
    const env = {
      API_KEYS: 'fq_alpha_key:alpha,fq_beta_key:beta,fq_gamma_key:gamma',
      ADMIN_API_KEY: 'fq_admin_key',
      TENANT_REQUESTS_PER_MINUTE: String(LIMIT),
    };
    [first, second] = await Promise.all([startApi(env, { redis }), startApi(env, { redis })]);
  });
  afterAll(async () => {
    await Promise.all([first?.close(), second?.close()]);
    await redis?.stop();
  });

  it(`lets ${LIMIT} requests through across both, then answers 429 on either, with rate-limit headers`, async () => {
    const alpha = [tenantClient(first.url, 'fq_alpha_key'), tenantClient(second.url, 'fq_alpha_key')];
    for (let i = 0; i < LIMIT; i++) {
      const response = await alpha[i % 2]!.get('/v1/jobs');
      expect(response.status).toBe(200);
      expect(response.headers.get('ratelimit-limit')).toBe(String(LIMIT));
      expect(response.headers.get('ratelimit-remaining')).toBe(String(LIMIT - 1 - i));
      expect(Number(response.headers.get('ratelimit-reset'))).toBeGreaterThanOrEqual(1);
      expect(Number(response.headers.get('ratelimit-reset'))).toBeLessThanOrEqual(60);
      expect(response.headers.get('ratelimit-policy')).toBe(`${LIMIT};w=60`);
    }
    for (const client of alpha) {
      const refused = await client.get<ErrorBody>('/v1/jobs');
      expect(refused.status).toBe(429);
      expect(refused.body.error).toMatchObject({ type: 'rate_limit_error', code: 'rate_limit_exceeded' });
      expect(refused.body.error.message).toContain(`${LIMIT} requests per minute`);
      const retryAfter = Number(refused.headers.get('retry-after'));
      expect(Number.isInteger(retryAfter)).toBe(true);
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
      expect(refused.headers.get('ratelimit-limit')).toBe(String(LIMIT));
      expect(refused.headers.get('ratelimit-remaining')).toBe('0');
      expect(refused.headers.get('ratelimit-reset')).toBe(String(retryAfter));
    }
    // Another tenant has its own window, on either process.
    const beta = await tenantClient(second.url, 'fq_beta_key').get('/v1/jobs');
    expect(beta.status).toBe(200);
    expect(beta.headers.get('ratelimit-remaining')).toBe(String(LIMIT - 1));
    // Admin keys are not limited (and get no rate-limit headers).
    const admin = await tenantClient(first.url, 'fq_admin_key').get('/v1/jobs');
    expect(admin.status).not.toBe(429);
    expect(admin.headers.get('ratelimit-limit')).toBeNull();
  });

  it('admits exactly the limit when requests race on both processes at once', async () => {
    const gamma = [tenantClient(first.url, 'fq_gamma_key'), tenantClient(second.url, 'fq_gamma_key')];
    const responses = await Promise.all(
      Array.from({ length: 2 * LIMIT + 5 }, (_, i) => gamma[i % 2]!.get('/v1/jobs')),
    );
    const statuses = responses.map((response) => response.status);
    expect(statuses.filter((status) => status === 200)).toHaveLength(LIMIT);
    expect(statuses.filter((status) => status === 429)).toHaveLength(LIMIT + 5);
  });

  it('leaves unauthenticated routes (health) alone', async () => {
    expect((await fetch(`${first.url}/healthz`)).headers.get('ratelimit-limit')).toBeNull();
  });
});

describe('rate limit while Redis is unreachable', () => {
  it('lets requests through and logs a warning instead of failing them', async () => {
    const redis = createRedis({ url: 'redis://127.0.0.1:1', role: 'api' });
    const logger = createLogger({ name: 'rate-limit-test', level: 'silent' });
    const warn = vi.spyOn(logger, 'warn');
    const tenants = createTenantRegistry({
      apiKeys: 'fq_k:acme',
      defaultLimits: { requestsPerMinute: 1, maxQueuedJobs: null, maxRunningJobs: null, dailySpendUsd: null },
    });
    const app = express();
    app.use((req, _res, next) => {
      req.tenant = 'acme';
      req.isAdmin = false;
      next();
    });
    app.use(rateLimit({ records: createRecords(redis), tenants, logger }));
    app.get('/ping', (_req, res) => {
      res.json({ ok: true });
    });
    app.use(errorHandler(logger));
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const address = server.address();
      const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/ping`;
      for (let i = 0; i < 3; i++) {
        const response = await fetch(url);
        expect(response.status).toBe(200);
        expect(response.headers.get('ratelimit-limit')).toBeNull();
      }
      // One warning, not one per request.
      expect(warn).toHaveBeenCalledTimes(1);
    } finally {
      server.close();
      server.closeAllConnections();
      redis.disconnect();
    }
  });
});

describe('daily spend cap', () => {
  // Two Turbo 1 MP jobs ($0.008 each) leave $0.005: one Flash 1 MP job ($0.005) still fits exactly.
  const CAP = 0.021;
  let api: ApiHarness;
  let spender: TenantClient;
  let other: TenantClient;

  beforeAll(async () => {
    api = await startApi({
      API_KEYS: 'fq_spender_key:spender,fq_other_key:other',
      TENANT_DAILY_SPEND_USD: String(CAP),
    });
    spender = tenantClient(api.url, 'fq_spender_key');
    other = tenantClient(api.url, 'fq_other_key');
  });
  afterAll(async () => api?.close());

  it('prices the requests of this test as expected', () => {
    const price = (model: 'flux.2-dev-turbo' | 'flux.2-dev-flash') =>
      priceRequest({ model, references: [], output: { width: 1024, height: 1024 }, n: 1 }).usd;
    expect(price('flux.2-dev-turbo')).toBe(0.008);
    expect(price('flux.2-dev-flash')).toBe(0.005);
  });

  it('accepts jobs up to the cap, refuses a dearer one with 402, and still lets a cheaper one through', async () => {
    for (let i = 0; i < 2; i++) {
      const accepted = await spender.post('/v1/jobs', turbo1mp);
      expect(accepted.status).toBe(202);
      expect(accepted.body.cost.usd).toBe(0.008);
    }

    const refused = await spender.post<ErrorBody>('/v1/jobs', turbo1mp);
    expect(refused.status).toBe(402);
    expect(refused.body.error).toEqual({
      type: 'insufficient_quota',
      code: 'spend_limit_reached',
      message: 'daily spend limit of $0.021 reached: $0.016 spent today, this request costs $0.008',
      param: null,
    });
    // The synchronous OpenAI-style endpoint is held to the same cap.
    const viaImages = await spender.post<ErrorBody>('/v1/images/generations', turbo1mp, {
      prefer: 'respond-async',
    });
    expect(viaImages.status).toBe(402);
    expect(viaImages.body.error.code).toBe('spend_limit_reached');

    // A quote tells the same truth, and reserves nothing.
    expect((await spender.post('/v1/jobs?dry_run=true', turbo1mp)).status).toBe(402);
    expect((await spender.post('/v1/jobs?dry_run=true', flash1mp)).status).toBe(200);

    const cheaper = await spender.post('/v1/jobs', flash1mp);
    expect(cheaper.status).toBe(202);
    expect(cheaper.body.cost.usd).toBe(0.005);

    // Exactly at the cap now: even the cheapest request is refused.
    const atCap = await spender.post<ErrorBody>('/v1/jobs', flash1mp);
    expect(atCap.status).toBe(402);
    expect(atCap.body.error.message).toContain('$0.021 spent today');

    // Refused requests created no jobs.
    expect((await spender.get('/v1/jobs')).body.data).toHaveLength(3);
    // Each tenant has its own cap.
    expect((await other.post('/v1/jobs', turbo1mp)).status).toBe(202);
  });

  it('reports the day in GET /v1/usage', async () => {
    const usage = await spender.get('/v1/usage');
    expect(usage.status).toBe(200);
    expect(usage.body).toEqual({
      object: 'usage',
      date: new Date().toISOString().slice(0, 10),
      spent_usd: 0.021,
      daily_limit_usd: CAP,
      queued_jobs: 3,
      max_queued_jobs: null,
      // Granted fal slots (the harness has slots and no worker): they hold the tenant's running
      // places, and stay queued until fal has them.
      running_jobs: 3,
      max_running_jobs: null,
      requests_per_minute: null,
    });
    expect((await other.get('/v1/usage')).body).toMatchObject({ spent_usd: 0.008, queued_jobs: 1 });
  });

  it('counts the spend of a tenant without a cap too, so its usage is true', async () => {
    const open = await startApi({ API_KEYS: 'fq_uncapped_key:uncapped' });
    try {
      const uncapped = tenantClient(open.url, 'fq_uncapped_key');
      expect((await uncapped.post('/v1/jobs', turbo1mp)).status).toBe(202);
      expect((await uncapped.post('/v1/jobs', flash1mp)).status).toBe(202);
      expect((await uncapped.get('/v1/usage')).body).toMatchObject({
        spent_usd: 0.013,
        daily_limit_usd: null,
      });
    } finally {
      await open.close();
    }
  });

  it('gives a reservation back on release (a request that fails after reserving)', async () => {
    const before = await spentToday(api.deps, 'other');
    const reservation = await reserveSpend(api.deps, 'other', 0.004);
    expect(await spentToday(api.deps, 'other')).toBeCloseTo(before + 0.004, 9);
    await reservation.release();
    expect(await spentToday(api.deps, 'other')).toBe(before);
  });
});

describe('maximum queued jobs', () => {
  const LIMIT = 3;
  let api: ApiHarness;
  let queuer: TenantClient;
  let other: TenantClient;

  beforeAll(async () => {
    api = await startApi({
      API_KEYS: 'fq_queuer_key:queuer,fq_other_key:other,fq_burst_key:burst',
      TENANT_MAX_QUEUED_JOBS: String(LIMIT),
      TENANT_MAX_RUNNING_JOBS: '2',
    });
    queuer = tenantClient(api.url, 'fq_queuer_key');
    other = tenantClient(api.url, 'fq_other_key');
  });
  afterAll(async () => api?.close());

  it(`accepts ${LIMIT} queued jobs, refuses the next with 429, and takes one again after a cancel`, async () => {
    const ids: string[] = [];
    for (let i = 0; i < LIMIT; i++) {
      const accepted = await queuer.post('/v1/jobs', { prompt: `queued ${i}` });
      expect(accepted.status).toBe(202);
      ids.push(accepted.body.id);
    }
    const refused = await queuer.post<ErrorBody>('/v1/jobs', { prompt: 'one too many' });
    expect(refused.status).toBe(429);
    expect(refused.body.error).toMatchObject({ type: 'rate_limit_error', code: 'queued_limit_reached' });
    expect(refused.body.error.message).toContain(`queued jobs limit of ${LIMIT}`);
    expect((await queuer.get('/v1/jobs')).body.data).toHaveLength(LIMIT);
    // Another tenant's queue is its own.
    expect((await other.post('/v1/jobs', { prompt: 'elsewhere' })).status).toBe(202);

    expect((await queuer.get('/v1/usage')).body).toMatchObject({
      queued_jobs: LIMIT,
      max_queued_jobs: LIMIT,
      max_running_jobs: 2,
    });

    expect((await queuer.post(`/v1/jobs/${ids[0]}/cancel`)).body.status).toBe('canceled');
    expect((await queuer.get('/v1/usage')).body.queued_jobs).toBe(LIMIT - 1);
    const afterCancel = await queuer.post('/v1/jobs', { prompt: 'after a cancel' });
    expect(afterCancel.status).toBe(202);
    ids.push(afterCancel.body.id);
    expect((await queuer.post<ErrorBody>('/v1/jobs', { prompt: 'full again' })).status).toBe(429);

    // The running limit holds at the grant: two of the tenant's jobs hold its 2 running places
    // (no worker finishes them here), so this one waits in line although fal slots are free.
    expect(await api.deps.scheduler.holds(afterCancel.body.id)).toBe(false);
    expect(await api.deps.scheduler.place(afterCancel.body.id)).toMatchObject({ position: 0 });
    expect(await api.deps.scheduler.running('queuer')).toBe(2);
  });

  it('takes back the place of a job that left the queue without saying so', async () => {
    const [oldest] = await queuedJobs(api.client, 'queuer');
    // As if a worker had started it and died before taking it out of the index.
    await api.deps.store.update(oldest!.jobId, { status: 'running' });
    expect(await queuedCount(api.client, 'queuer')).toBe(LIMIT);
    expect((await queuer.post('/v1/jobs', { prompt: 'in its place' })).status).toBe(202);
    expect(await queuedCount(api.client, 'queuer')).toBe(LIMIT);
  });

  it('keeps an indexed job whose record is still being written', async () => {
    await markQueued(api.client, 'other', 'job_being_written', Date.now());
    await markQueued(api.client, 'other', 'job_never_written', Date.now() - 120_000);
    // `other` has 1 real queued job + 2 index entries = full; the stale one is taken back.
    expect((await other.post('/v1/jobs', { prompt: 'fits once pruned' })).status).toBe(202);
    expect((await other.post<ErrorBody>('/v1/jobs', { prompt: 'full' })).status).toBe(429);
  });

  it('admits exactly the limit when submits race', async () => {
    const burst = tenantClient(api.url, 'fq_burst_key');
    const responses = await Promise.all(
      Array.from({ length: 8 }, (_, i) => burst.post('/v1/jobs', { prompt: `race ${i}` })),
    );
    const statuses = responses.map((response) => response.status).sort();
    expect(statuses).toEqual([202, 202, 202, 429, 429, 429, 429, 429]);
    expect(await queuedCount(api.client, 'burst')).toBe(LIMIT);
  });
});
