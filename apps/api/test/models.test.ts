import { MODEL_IDS, MODELS } from '@fluxq/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiHarness, startApi } from './api-harness.js';
import { type ErrorBody, tenantClient } from './tenant-client.js';

let api: ApiHarness;
beforeAll(async () => {
  api = await startApi();
});
afterAll(async () => api?.close());

describe('GET /v1/models', () => {
  it("lists every model of the catalog in OpenAI's list shape, with prices and limits", async () => {
    const { status, body } = await tenantClient(api.url).get('/v1/models');
    expect(status).toBe(200);
    expect(body.object).toBe('list');
    expect(body.data.map((model: { id: string }) => model.id)).toEqual([...MODEL_IDS]);
    for (const model of body.data) {
      expect(model).toMatchObject({
        object: 'model',
        owned_by: 'fluxq',
        operations: ['generate', 'edit'],
        usd_per_megapixel: MODELS[model.id as keyof typeof MODELS].usdPerMegapixel,
        max_side: 2048,
        min_side: 512,
      });
      expect(Number.isInteger(model.created)).toBe(true);
    }
  });
});

describe('GET /v1/models/{id}', () => {
  it('answers one model', async () => {
    const { status, body } = await tenantClient(api.url).get('/v1/models/flux.2-dev-flash');
    expect(status).toBe(200);
    expect(body).toMatchObject({ id: 'flux.2-dev-flash', object: 'model', usd_per_megapixel: 0.005 });
  });

  it('answers 404 model_not_found for an unknown model', async () => {
    const { status, body } = await tenantClient(api.url).get('/v1/models/dall-e-3');
    expect(status).toBe(404);
    expect((body as ErrorBody).error).toMatchObject({ code: 'model_not_found', type: 'not_found_error' });
  });
});
