import { createProviderStats, type JobStatsFacts } from '@fluxq/resilience';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { statsList } from '../src/openapi/schemas.js';
import { type ApiHarness, startApi } from './api-harness.js';
import { type ErrorBody, type TenantClient, tenantClient } from './tenant-client.js';

/**
 * `GET /v1/stats` on the app: the query is checked (a bad window is a 400 naming it), a
 * tenant's key sees its own delivered figures beside everyone's provider figures, the admin
 * key sees every tenant or the one it names, and the answer has the documented shape. The
 * figures are written by the workers' own recorder; the end-to-end comparison with jobs'
 * timings is test/e2e/provider-stats.test.ts.
 */

const ACME_KEY = 'fq_acme_0123456789abcdef';
const GLOBEX_KEY = 'fq_globex_0123456789abcdef';
const ADMIN_KEY = 'fq_admin_0123456789abcdef';

const job = (tenant: string, overrides: Partial<JobStatsFacts> = {}): JobStatsFacts => ({
  tenant,
  model: 'flux.2-dev-turbo',
  operation: 'generate',
  status: 'succeeded',
  totalMs: 3_000,
  retried: false,
  hedged: false,
  submits: 1,
  images: 1,
  costMicroUsd: 8_000,
  requests: [{ ended: true, completed: true, generationMs: 2_000, firstByteMs: 300 }],
  ...overrides,
});

describe('GET /v1/stats with keys', () => {
  let api: ApiHarness;
  let acme: TenantClient;
  let globex: TenantClient;
  let admin: TenantClient;
  beforeAll(async () => {
    api = await startApi({ API_KEYS: `${ACME_KEY}:acme,${GLOBEX_KEY}:globex`, ADMIN_API_KEY: ADMIN_KEY });
    acme = tenantClient(api.url, ACME_KEY);
    globex = tenantClient(api.url, GLOBEX_KEY);
    admin = tenantClient(api.url, ADMIN_KEY);
    const recorder = createProviderStats(api.client);
    await recorder.record(job('acme'));
    await recorder.record(job('acme', { status: 'failed', images: 0, costMicroUsd: 0, requests: [] }));
    await recorder.record(job('globex', { operation: 'edit' }));
  });
  afterAll(async () => api?.close());

  it('answers the documented shape', async () => {
    const { status, body } = await acme.get('/v1/stats?window=7d&histogram=true');
    expect(status).toBe(200);
    expect(() => statsList.parse(body)).not.toThrow();
    expect(body).toMatchObject({ object: 'list', window: '7d', tenant: 'acme' });
    expect(body.data[0].provider.generation.histogram).toEqual([{ le_ms: expect.any(Number), count: 1 }]);
  });

  it("shows a tenant its own delivered figures and everyone's provider figures", async () => {
    const a = (await acme.get('/v1/stats')).body;
    const g = (await globex.get('/v1/stats')).body;
    const row = (body: typeof a, operation: string) =>
      body.data.find((r: { operation: string }) => r.operation === operation);
    expect(a.window).toBe('24h');
    expect(row(a, 'generate').delivered).toMatchObject({ jobs: 2, succeeded: 1, failed: 1 });
    expect(row(a, 'edit').delivered).toMatchObject({ jobs: 0 });
    expect(row(g, 'generate').delivered).toMatchObject({ jobs: 0 });
    expect(row(g, 'edit').delivered).toMatchObject({ jobs: 1, succeeded: 1 });
    // fal's side is one table for all.
    expect(row(a, 'generate').provider).toEqual(row(g, 'generate').provider);
    expect(row(a, 'generate').provider.requests).toBe(1);
  });

  it('shows the admin key every tenant, or the one it names', async () => {
    const all = (await admin.get('/v1/stats')).body;
    expect(all.tenant).toBeNull();
    expect(all.data.map((r: { delivered: { jobs: number } }) => r.delivered.jobs)).toEqual([2, 1]);
    const only = (await admin.get('/v1/stats?tenant=globex')).body;
    expect(only.tenant).toBe('globex');
    expect(only.data.map((r: { delivered: { jobs: number } }) => r.delivered.jobs)).toEqual([0, 1]);
  });

  it.each([
    ['/v1/stats?window=2h', 'window'],
    ['/v1/stats?window=', 'window'],
    ['/v1/stats?window=1h&window=24h', 'window'],
    ['/v1/stats?histogram=maybe', 'histogram'],
  ])('refuses %s with a 400 naming %s', async (path, param) => {
    const { status, body } = await acme.get<ErrorBody>(path);
    expect(status).toBe(400);
    expect(body.error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_parameter', param });
  });

  it("refuses a tenant's key that asks for another tenant", async () => {
    const { status, body } = await acme.get<ErrorBody>('/v1/stats?tenant=globex');
    expect(status).toBe(400);
    expect(body.error).toMatchObject({ code: 'invalid_parameter', param: 'tenant' });
    expect((await admin.get<ErrorBody>('/v1/stats?tenant=a:b')).body.error.param).toBe('tenant');
  });

  it('needs a key', async () => {
    expect((await tenantClient(api.url).get('/v1/stats')).status).toBe(401);
  });
});

describe('GET /v1/stats in open mode', () => {
  let api: ApiHarness;
  beforeAll(async () => {
    api = await startApi();
    await createProviderStats(api.client).record(job('local'));
  });
  afterAll(async () => api?.close());

  it('answers for the one tenant without a key', async () => {
    const { status, body } = await tenantClient(api.url).get('/v1/stats?window=1h');
    expect(status).toBe(200);
    expect(body).toMatchObject({ tenant: 'local', window: '1h' });
    expect(body.data[0].delivered).toMatchObject({ jobs: 1, succeeded: 1 });
  });
});
