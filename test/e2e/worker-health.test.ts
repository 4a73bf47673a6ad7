import { getFreePort, waitFor } from '@fluxq/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from './stack.js';

/**
 * The worker's probe endpoints on METRICS_PORT (what compose healthchecks and Kubernetes
 * probes ask): live while the process serves, ready only while it can take jobs.
 */
describe('worker health server', () => {
  let stack: Stack;
  let url: string;
  beforeAll(async () => {
    const port = await getFreePort();
    url = `http://127.0.0.1:${port}`;
    stack = await startStack({ workers: 1, workerEnv: { METRICS_PORT: String(port) } });
  });
  afterAll(async () => stack?.close());

  it('answers /healthz and /readyz 200 once the worker takes jobs, 404 elsewhere', async () => {
    const live = await fetch(`${url}/healthz`);
    expect(live.status).toBe(200);
    expect(await live.json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready' });
    expect((await fetch(`${url}/nope`)).status).toBe(404);
  });

  it('is not ready while Redis is gone, and ready again when it is back', async () => {
    await stack.redis.kill();
    const down = await fetch(`${url}/readyz`);
    expect(down.status).toBe(503);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    await stack.redis.restart();
    await waitFor(async () => (await fetch(`${url}/readyz`)).status === 200, { timeoutMs: 20_000 });
  });
});
