import { readdir } from 'node:fs/promises';
import { priceRequest } from '@fluxq/core';
import { makeDataUri, makeImage } from '@fluxq/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiHarness, startApi } from './api-harness.js';
import { type ErrorBody, fileForm, type TenantClient, tenantClient } from './tenant-client.js';

let api: ApiHarness;
let client: TenantClient;

beforeAll(async () => {
  // images.example resolves to a public address here, as a real image host would.
  api = await startApi(
    { ALLOW_HTTP_IMAGE_URLS: 'true' },
    { resolve: async () => [{ address: '93.184.215.14', family: 4 }] },
  );
  client = tenantClient(api.url);
});
afterAll(async () => api?.close());

/** Everything a request could have written: Redis keys, queued jobs, stored files. */
async function footprint() {
  return {
    keys: (await api.client.keys('*')).sort(),
    queued: await api.deps.queue.count(),
    files: (await readdir(api.storageDir, { recursive: true })).sort(),
  };
}

const quote = (body: unknown, query = '?dry_run=true') => client.post(`/v1/jobs${query}`, body);

describe('POST /v1/jobs?dry_run=true', () => {
  describe('when the request is valid', () => {
    it('answers 200 with the quote of a generation, priced like the job, and creates nothing', async () => {
      const before = await footprint();
      const response = await quote({
        model: 'flux.2-dev-flash',
        prompt: 'a lighthouse',
        size: '1024x768',
        n: 3,
      });
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({
        object: 'quote',
        model: 'flux.2-dev-flash',
        operation: 'generate',
        priority: 'default',
        input: { prompt: 'a lighthouse', size: '1024x768', width: 1024, height: 768, n: 3, images: [] },
        exact: true,
      });
      expect(response.body.input.size_rule).toBeUndefined();
      expect(response.body.cost).toEqual(
        priceRequest({
          model: 'flux.2-dev-flash',
          references: [],
          output: { width: 1024, height: 768 },
          n: 3,
        }),
      );
      expect(await footprint()).toEqual(before);
    });

    it('decodes data: URIs to price references and size the edit, without storing them', async () => {
      const png = await makeImage({ width: 1600, height: 1200, format: 'png' });
      const body = { prompt: 'make it autumn', images: [makeDataUri(png, 'image/png')], n: 2 };
      const before = await footprint();
      const response = await quote(body);
      expect(response.status).toBe(200);
      expect(await footprint()).toEqual(before);
      expect(response.body.input.images).toEqual([{ source: 'data', width: 1600, height: 1200 }]);
      expect(response.body.cost).toEqual(
        priceRequest({
          model: 'flux.2-dev-turbo',
          references: [{ width: 1600, height: 1200 }],
          output: { width: response.body.input.width, height: response.body.input.height },
          n: 2,
        }),
      );

      // The quote is what the job then costs.
      const job = await client.post('/v1/jobs', body);
      expect(job.status).toBe(202);
      expect(job.body.cost).toEqual(response.body.cost);
      expect(job.body.input).toMatchObject({ size: response.body.input.size });
    });

    it('prices an upload id with the upload size', async () => {
      const png = await makeImage({ width: 2048, height: 1024, format: 'png' });
      const uploaded = await client.postForm('/v1/uploads', fileForm('file', png, 'wide.png', 'image/png'));
      const response = await quote({ prompt: 'p', images: [uploaded.body.id], size: '1024x1024' });
      expect(response.status).toBe(200);
      expect(response.body.input.images).toEqual([
        { source: 'upload', id: uploaded.body.id, width: 2048, height: 1024 },
      ]);
      expect(response.body.cost).toEqual({ megapixels: 3, usd: 0.024 });
    });

    it('marks a quote with a URL input as not exact (its size is unknown until fetched)', async () => {
      const response = await quote({ prompt: 'p', images: ['http://images.example/a.png'] });
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({
        exact: false,
        input: { size: null, width: null, height: null },
        cost: priceRequest({
          model: 'flux.2-dev-turbo',
          references: [undefined],
          output: { width: 1024, height: 1024 },
          n: 1,
        }),
      });
    });

    it('creates the job as usual with dry_run=false', async () => {
      const response = await quote({ prompt: 'p' }, '?dry_run=false');
      expect(response.status).toBe(202);
      expect(response.body.object).toBe('job');
    });
  });

  describe('when the request is not valid', () => {
    it.each([
      { title: 'a bad size', body: { prompt: 'p', size: '100x100' }, code: 'invalid_size' },
      { title: 'bad metadata', body: { prompt: 'p', metadata: { a: 1 } }, code: 'invalid_parameter' },
      {
        title: 'an unknown upload',
        body: { prompt: 'p', images: ['upl_0000000000000000000000000'] },
        code: 'invalid_image',
      },
      {
        title: 'a data: URI that is not an image',
        body: { prompt: 'p', images: [`data:image/png;base64,${Buffer.from('nope').toString('base64')}`] },
        code: 'unsupported_image_type',
      },
    ])('refuses $title exactly as a job would ($code)', async ({ body, code }) => {
      const response = await quote(body);
      expect((response.body as ErrorBody).error.code).toBe(code);
      expect(response.status).toBe((await client.post('/v1/jobs', body)).status);
    });

    it('answers 400 for a dry_run that is not a boolean', async () => {
      const response = await quote({ prompt: 'p' }, '?dry_run=maybe');
      expect(response.status).toBe(400);
      expect((response.body as ErrorBody).error.param).toBe('dry_run');
    });
  });
});
