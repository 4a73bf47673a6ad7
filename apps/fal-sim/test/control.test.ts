import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FalSim } from '../src/index.js';
import { call, startSim, submit, waitForStatus } from './helpers.js';

const post = (url: string, body?: unknown) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

describe('control API', () => {
  let sim: FalSim;
  beforeAll(async () => {
    sim = await startSim();
  });
  afterAll(() => sim.close());

  it('answers /health with ok', async () => {
    const response = await fetch(`${sim.url}/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: true });
  });

  it('reports stats over /__sim/stats and zeroes them on /__sim/reset', async () => {
    const { body } = await submit(sim, 'fal-ai/flux-2/turbo', { prompt: 'p', image_size: 'square' });
    await waitForStatus(body.status_url, 'COMPLETED');
    const stats = await (await fetch(`${sim.url}/__sim/stats`)).json();
    expect(stats).toMatchObject({ submits: 1, completed: 1, billed: 1, statusCalls: expect.any(Number) });
    expect((await post(`${sim.url}/__sim/reset`)).status).toBe(200);
    expect(await (await fetch(`${sim.url}/__sim/stats`)).json()).toMatchObject({
      submits: 0,
      statusCalls: 0,
    });
  });

  it('changes time scale, failure rates and concurrency over /__sim/config', async () => {
    const response = await post(`${sim.url}/__sim/config`, {
      timeScale: 0.5,
      failureRate: { 'fal-ai/flux-2/flash': 0.25 },
      maxConcurrency: 4,
    });
    expect(await response.json()).toEqual({
      timeScale: 0.5,
      failureRates: { '*': 0, 'fal-ai/flux-2/flash': 0.25 },
      maxConcurrency: 4,
    });
    await post(`${sim.url}/__sim/config`, { timeScale: 0, failureRate: 0, maxConcurrency: null });
    expect(sim.config()).toEqual({ timeScale: 0, failureRates: { '*': 0 }, maxConcurrency: null });
  });

  it('rejects an invalid config with 400 and leaves the config as it was', async () => {
    const response = await post(`${sim.url}/__sim/config`, { failureRate: 2 });
    expect(response.status).toBe(400);
    expect(sim.config().failureRates).toEqual({ '*': 0 });
  });

  it('serves an Ed25519 JWKS for webhook verification', async () => {
    const jwks = await call(`${sim.url}/.well-known/jwks.json`).then((r) => r.body);
    expect(jwks.keys).toEqual([
      expect.objectContaining({ kty: 'OKP', crv: 'Ed25519', x: expect.any(String) }),
    ]);
  });
});
