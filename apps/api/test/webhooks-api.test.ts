import { emitJobEvent } from '@fluxq/queue';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiHarness, startApi } from './api-harness.js';
import { type TenantClient, tenantClient } from './tenant-client.js';

/** The webhook settings and delivery-log routes, per tenant, on the in-process API. */
describe('/v1/webhooks', () => {
  let api: ApiHarness;
  let acme: TenantClient;
  let globex: TenantClient;
  beforeAll(async () => {
    api = await startApi({ API_KEYS: 'fq_acme_key:acme,fq_globex_key:globex', URL_ALLOW_LIST: '127.0.0.1' });
    acme = tenantClient(api.url, 'fq_acme_key');
    globex = tenantClient(api.url, 'fq_globex_key');
  });
  afterAll(async () => api?.close());

  it('gives each tenant its own whsec_ secret, the same on every read', async () => {
    const first = await acme.get('/v1/webhooks/secret');
    expect(first.body).toMatchObject({ object: 'webhook_secret', previous_secret_expires_at: null });
    expect(first.body.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect((await acme.get('/v1/webhooks/secret')).body.secret).toBe(first.body.secret);
    expect((await globex.get('/v1/webhooks/secret')).body.secret).not.toBe(first.body.secret);
  });

  it('rotates to a new secret and keeps the old one signing for 24 h', async () => {
    const before = (await acme.get('/v1/webhooks/secret')).body.secret;
    const rotated = await acme.post('/v1/webhooks/secret/rotate');
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).not.toBe(before);
    const overlapS = rotated.body.previous_secret_expires_at - Date.now() / 1000;
    expect(overlapS).toBeGreaterThan(24 * 3_600 - 60);
    expect(overlapS).toBeLessThanOrEqual(24 * 3_600);
    expect(await api.deps.webhooks.settings.signingSecrets('acme')).toEqual([rotated.body.secret, before]);
  });

  it("lists a tenant's deliveries, filtered by job and status, and hides other tenants'", async () => {
    const created = await acme.post('/v1/jobs', { prompt: 'p', webhook_url: 'http://127.0.0.1:9/hook' });
    expect(created.status).toBe(202);
    const record = await api.deps.store.get(created.body.id);
    const { queue, deliveries } = api.deps.webhooks;
    await emitJobEvent({ queue, deliveries, now: Date.now }, record!, 'job.succeeded');
    // Emitting the same event again (a re-run after a crash) is the same delivery.
    await emitJobEvent({ queue, deliveries, now: Date.now }, record!, 'job.succeeded');

    const byJob = await acme.get(`/v1/webhooks/deliveries?job_id=${created.body.id}`);
    expect(byJob.body.data).toHaveLength(1);
    const [delivery] = byJob.body.data;
    expect(delivery).toMatchObject({
      object: 'webhook_delivery',
      type: 'job.succeeded',
      job_id: created.body.id,
      url: 'http://127.0.0.1:9/hook',
      status: 'pending',
      attempts: [],
    });
    expect(delivery.event_id).toMatch(/^msg_/);
    expect(delivery.snapshot).toBeUndefined();
    expect((await acme.get('/v1/webhooks/deliveries?status=pending')).body.data).toHaveLength(1);
    expect((await acme.get('/v1/webhooks/deliveries?status=failed')).body.data).toHaveLength(0);
    expect((await acme.get(`/v1/webhooks/deliveries/${delivery.id}`)).body.id).toBe(delivery.id);
    expect((await globex.get('/v1/webhooks/deliveries')).body.data).toHaveLength(0);
    expect((await globex.get(`/v1/webhooks/deliveries/${delivery.id}`)).status).toBe(404);
    // Still being attempted: nothing to resend yet.
    expect((await acme.post(`/v1/webhooks/deliveries/${delivery.id}/resend`)).status).toBe(400);
  });

  it.each([
    ['GET', '/v1/webhooks/deliveries/whd_nope_succeeded', 404, 'webhook_delivery_not_found'],
    ['GET', '/v1/webhooks/deliveries?status=lost', 400, 'invalid_parameter'],
    ['GET', '/v1/webhooks/deliveries?limit=0', 400, 'invalid_parameter'],
    ['POST', '/v1/webhooks/recover', 400, 'invalid_parameter'],
    ['POST', '/v1/webhooks/endpoints/enable', 400, 'missing_parameter'],
  ])('%s %s → %i %s', async (method, path, status, code) => {
    const response = method === 'GET' ? await acme.get(path) : await acme.post(path, {});
    expect(response.status).toBe(status);
    expect(response.body.error.code).toBe(code);
  });

  it('needs an API key like every other /v1 route', async () => {
    expect((await tenantClient(api.url).get('/v1/webhooks/secret')).status).toBe(401);
  });
});
