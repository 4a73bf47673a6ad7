import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiHarness, startApi } from './api-harness.js';
import { tenantClient } from './tenant-client.js';

/**
 * Bull Board at `/admin/queues`: the admin key sees the `images` and `webhooks` queues, each
 * BullMQ job under the fluxq job id; a tenant key gets the plain 404 of an unknown route.
 */

const ADMIN_KEY = 'fq_admin_board_0123456789';
const ACME_KEY = 'fq_acme_board_key';

describe('Bull Board', () => {
  let api: ApiHarness;
  beforeAll(async () => {
    api = await startApi({ API_KEYS: `${ACME_KEY}:acme`, ADMIN_API_KEY: ADMIN_KEY });
  });
  afterAll(async () => api?.close());

  const get = (path: string, key: string) =>
    fetch(`${api.url}${path}`, { headers: { authorization: `Bearer ${key}` } });

  it('serves the board to the admin key, with both queues and fluxq job ids', async () => {
    // A job accepted by the API, so it sits in the images queue (no worker runs here).
    const job = await tenantClient(api.url, ACME_KEY).post('/v1/jobs', {
      model: 'flux.2-dev-turbo',
      prompt: 'a fox',
    });
    expect(job.status).toBe(202);

    const page = await get('/admin/queues', ADMIN_KEY);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    const html = await page.text();
    expect(html).not.toMatch(/src="https?:\/\//);
    // Its UI script comes from the API itself (bundled with @bull-board/ui), not a CDN.
    const script = /<script[^>]+src="([^"]+)"/.exec(html)?.[1];
    expect(html).toContain('<base href="/admin/queues/"');
    expect(script).toMatch(/^static\//);
    expect((await get(`/admin/queues/${script}`, ADMIN_KEY)).status).toBe(200);

    const queues = (await (
      await get('/admin/queues/api/queues?activeQueue=images&status=prioritized', ADMIN_KEY)
    ).json()) as {
      queues: { name: string; jobs: { id: string; data: { jobId?: string } }[] }[];
    };
    expect(queues.queues.map((q) => q.name).sort()).toEqual(['images', 'webhooks']);
    const images = queues.queues.find((q) => q.name === 'images');
    // The fair dispatcher moves accepted jobs into the queue; the board lists them by our id.
    await expect
      .poll(async () => {
        const body = (await (
          await get('/admin/queues/api/queues?activeQueue=images&status=latest', ADMIN_KEY)
        ).json()) as typeof queues;
        return body.queues.find((q) => q.name === 'images')?.jobs.map((j) => j.id) ?? [];
      })
      .toContain(job.body.id);
    expect(images).toBeDefined();
  });

  it('is a 404 for a tenant key', async () => {
    for (const path of ['/admin/queues', '/admin/queues/api/queues']) {
      const response = await get(path, ACME_KEY);
      expect(response.status).toBe(404);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('not_found');
    }
  });
});
