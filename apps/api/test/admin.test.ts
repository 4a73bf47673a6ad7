import { type JobRecord, newId } from '@fluxq/core';
import { emitJobEvent } from '@fluxq/queue';
import { PromScrape } from '@fluxq/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiHarness, startApi } from './api-harness.js';
import { type TenantClient, tenantClient } from './tenant-client.js';

/**
 * `GET /metrics` and `GET /admin/stats` on the app `createApp` builds: admin key only, a
 * 404 like any unknown route for everyone else; in local open mode open to loopback callers.
 */

const ADMIN_KEY = 'fq_admin_0123456789abcdef';
const METRICS_TOKEN = 'metrics-token-0123456789';
const HOUR_MS = 3_600_000;

/** The raw answer: `/metrics` is text, not JSON. */
async function raw(url: string, key?: string, method = 'GET') {
  const response = await fetch(url, { method, headers: key ? { authorization: `Bearer ${key}` } : {} });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text };
}

/** Value of one sample line of the exposition text, e.g. `fluxq_queue_jobs{queue="images",state="waiting"}`. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('admin endpoints in open mode', () => {
  let api: ApiHarness;
  beforeAll(async () => {
    api = await startApi();
  });
  afterAll(async () => api?.close());

  it('GET /metrics is open to a loopback caller without a key', async () => {
    const response = await raw(`${api.url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(sample(response.text, 'fluxq_queue_jobs{queue="images",state="waiting"}')).toBe(0);
    // No tenant label unless METRICS_TENANT_LABELS=true.
    const scrape = new PromScrape(response.text);
    expect([...scrape.labelValues()].filter((l) => l.label === 'tenant')).toEqual([]);
  });

  it('GET /admin/stats is open to a loopback caller without a key', async () => {
    const response = await tenantClient(api.url).get('/admin/stats');
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ queues: { images: expect.any(Object) } });
  });
});

describe('admin endpoints with API keys', () => {
  let api: ApiHarness;
  let acme: TenantClient;
  let admin: TenantClient;
  let template: JobRecord;

  /** A job written straight to the store (no queue), created at `createdMs`. */
  const storedJob = async (tenant: string, createdMs: number, status: JobRecord['status'] = 'queued') => {
    const record: JobRecord = {
      ...template,
      id: newId('job', createdMs),
      tenant,
      status,
      created_ms: createdMs,
      created_at: Math.floor(createdMs / 1000),
    };
    await api.deps.store.create(record);
    return record;
  };

  beforeAll(async () => {
    api = await startApi({
      API_KEYS: 'fq_acme_key:acme,fq_globex_key:globex,fq_bulk_key:bulk',
      ADMIN_API_KEY: ADMIN_KEY,
      URL_ALLOW_LIST: '127.0.0.1',
      METRICS_TOKEN,
      METRICS_TENANT_LABELS: 'true',
    });
    acme = tenantClient(api.url, 'fq_acme_key');
    admin = tenantClient(api.url, ADMIN_KEY);

    // acme: two jobs through the API (both wait in the images queue: no worker here), one
    // of them with a webhook whose succeeded event is queued on the webhooks queue.
    const plain = await acme.post('/v1/jobs', { prompt: 'a kite' });
    const hooked = await acme.post('/v1/jobs', { prompt: 'a kite', webhook_url: 'http://127.0.0.1:9/hook' });
    expect([plain.status, hooked.status]).toEqual([202, 202]);
    template = (await api.deps.store.get(plain.body.id))!;
    const hookedRecord = (await api.deps.store.get(hooked.body.id))!;
    await api.deps.store.update(hookedRecord.id, { status: 'succeeded' });
    const { queue, deliveries } = api.deps.webhooks;
    await emitJobEvent({ queue, deliveries, now: Date.now }, hookedRecord, 'job.succeeded');
    // A job from before the window: not counted.
    await storedJob('acme', Date.now() - 25 * HOUR_MS, 'failed');

    // bulk: more jobs in the window than the sample reads.
    const now = Date.now();
    for (let chunk = 0; chunk < 1_001; chunk += 100) {
      await Promise.all(
        Array.from({ length: Math.min(100, 1_001 - chunk) }, (_, i) =>
          storedJob('bulk', now - (chunk + i) * 1_000, 'succeeded'),
        ),
      );
    }
  });
  afterAll(async () => api?.close());

  it.each(['/metrics', '/admin/stats'])(
    '%s needs a key like every authenticated route (401)',
    async (path) => {
      const response = await tenantClient(api.url).get(path);
      expect(response.status).toBe(401);
      expect(response.body.error.code).toBe('invalid_api_key');
    },
  );

  it.each(['/metrics', '/admin/stats'])(
    '%s answers a tenant key exactly as a route that does not exist (404 not_found)',
    async (path) => {
      const response = await acme.get(path);
      const unknown = await acme.get(`${path}-nope`);
      expect(response.status).toBe(404);
      expect(unknown.status).toBe(404);
      // Compared field by field: a per-request field (such as a request id) may differ.
      const { type, code, param, message } = unknown.body.error;
      expect(response.body.error).toMatchObject({
        type,
        code,
        param,
        message: message.replace(`${path}-nope`, path),
      });
      expect(response.body.error).toMatchObject({ code: 'not_found', type: 'not_found_error' });
    },
  );

  it('GET /metrics gives the admin the queues by state in the Prometheus text format', async () => {
    const response = await raw(`${api.url}/metrics`, ADMIN_KEY);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('no-store');
    const text = response.text;
    expect(text.endsWith('\n')).toBe(true);
    expect(text).toContain('# TYPE fluxq_queue_jobs gauge\n');
    // Image jobs carry a priority, so BullMQ keeps them in `prioritized`.
    expect(sample(text, 'fluxq_queue_jobs{queue="images",state="prioritized"}')).toBe(2);
    expect(sample(text, 'fluxq_queue_jobs{queue="images",state="waiting"}')).toBe(0);
    expect(sample(text, 'fluxq_queue_jobs{queue="webhooks",state="waiting"}')).toBe(1);
    for (const queue of ['images', 'webhooks']) {
      for (const state of ['waiting', 'prioritized', 'active', 'delayed', 'paused', 'completed', 'failed']) {
        expect(sample(text, `fluxq_queue_jobs{queue="${queue}",state="${state}"}`)).toBeTypeOf('number');
      }
    }
    // A real parser reads it: the queue gauges, the depth per priority class, process metrics.
    const scrape = new PromScrape(text);
    expect(scrape.families.get('fluxq_queue_jobs')?.type).toBe('GAUGE');
    expect(scrape.sum('fluxq_queue_depth', { priority: 'default', state: 'prioritized' })).toBe(2);
    expect(scrape.sum('fluxq_queue_depth', { priority: 'interactive' })).toBe(0);
    expect(scrape.families.has('process_cpu_user_seconds_total')).toBe(true);
  });

  it('GET /metrics takes METRICS_TOKEN as a bearer token (not an API key); a wrong one is refused', async () => {
    const response = await raw(`${api.url}/metrics`, METRICS_TOKEN);
    expect(response.status).toBe(200);
    expect(new PromScrape(response.text).families.has('fluxq_queue_jobs')).toBe(true);
    const wrong = await raw(`${api.url}/metrics`, `${METRICS_TOKEN}x`);
    expect(wrong.status).toBe(401);
    expect(JSON.parse(wrong.text).error.code).toBe('invalid_api_key');
    // The token opens /metrics only, not the other admin views.
    expect((await raw(`${api.url}/admin/stats`, METRICS_TOKEN)).status).toBe(401);
  });

  it('GET /metrics counts each tenant’s jobs of the last 24 h by status (never the admin’s)', async () => {
    const { text } = await raw(`${api.url}/metrics`, ADMIN_KEY);
    expect(sample(text, 'fluxq_tenant_jobs_24h{tenant="acme",status="queued"}')).toBe(1);
    expect(sample(text, 'fluxq_tenant_jobs_24h{tenant="acme",status="succeeded"}')).toBe(1);
    expect(sample(text, 'fluxq_tenant_jobs_24h{tenant="acme",status="failed"}')).toBe(0);
    expect(sample(text, 'fluxq_tenant_jobs_24h_total{tenant="acme"}')).toBe(2);
    expect(sample(text, 'fluxq_tenant_jobs_24h{tenant="globex",status="queued"}')).toBe(0);
    expect(sample(text, 'fluxq_tenant_jobs_24h{tenant="bulk",status="succeeded"}')).toBe(1_000);
    expect(sample(text, 'fluxq_tenant_jobs_24h_total{tenant="bulk"}')).toBe(1_001);
    expect(text).not.toContain('tenant="admin"');
  });

  it('GET /admin/stats gives per-tenant job counts over 24 h, sampled to 1,000 jobs per tenant', async () => {
    const response = await admin.get('/admin/stats');
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const body = response.body;
    expect(body.object).toBe('admin_stats');
    expect(body.window.hours).toBe(24);
    expect(body.window.until - body.window.since).toBe(24 * 3_600);
    expect(Math.abs(body.window.until - Date.now() / 1000)).toBeLessThan(60);
    expect(body.sampling.max_jobs_per_tenant).toBe(1_000);
    expect(body.sampling.note).toMatch(/1000 most recent/);
    expect(body.tenants.map((t: { tenant: string }) => t.tenant)).toEqual(['acme', 'bulk', 'globex']);
    const [acmeStats, bulkStats, globexStats] = body.tenants;
    expect(acmeStats).toEqual({
      tenant: 'acme',
      jobs_in_window: 2,
      sampled_jobs: 2,
      truncated: false,
      by_status: { queued: 1, running: 0, succeeded: 1, failed: 0, canceled: 0 },
    });
    expect(bulkStats).toEqual({
      tenant: 'bulk',
      jobs_in_window: 1_001,
      sampled_jobs: 1_000,
      truncated: true,
      by_status: { queued: 0, running: 0, succeeded: 1_000, failed: 0, canceled: 0 },
    });
    expect(globexStats).toMatchObject({ jobs_in_window: 0, sampled_jobs: 0, truncated: false });
    expect(body.queues.images).toMatchObject({ prioritized: 2, waiting: 0, active: 0 });
    expect(body.queues.webhooks).toMatchObject({ waiting: 1 });
  });

  it('only GET: other methods on the admin paths are unknown routes too', async () => {
    for (const path of ['/metrics', '/admin/stats']) {
      const response = await raw(`${api.url}${path}`, ADMIN_KEY, 'POST');
      expect(response.status).toBe(404);
      expect(JSON.parse(response.text).error.code).toBe('not_found');
    }
  });

  // Last: it adds a job of acme's, which the counts above would see.
  it('GET /metrics counts answers by route pattern, never by a path with an id in it', async () => {
    const job = await acme.post('/v1/jobs', { prompt: 'a kite' });
    expect((await acme.get(`/v1/jobs/${job.body.id}`)).status).toBe(200);
    const scrape = new PromScrape((await raw(`${api.url}/metrics`, ADMIN_KEY)).text);
    expect(
      scrape.sum('fluxq_api_requests_total', { method: 'POST', route: '/v1/jobs', status: '202' }),
    ).toBeGreaterThanOrEqual(3);
    expect(
      scrape.sum('fluxq_api_requests_total', { method: 'GET', route: '/v1/jobs/:id', status: '200' }),
    ).toBe(1);
    for (const { value } of scrape.labelValues()) expect(value).not.toMatch(/job_|[0-9a-f]{16}/);
  });
});
