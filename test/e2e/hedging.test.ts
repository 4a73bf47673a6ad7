import { createJobStore } from '@fluxq/queue';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { submitJob, waitForTerminal } from './jobs-client.js';
import { type Stack, startStack } from './stack.js';

/**
 * Hedged requests: the worker's priors are scaled so Turbo's tracked p95 is ≈ 270 ms,
 * while the simulator answers at once unless a fault holds a request slow.
 */
describe('hedging a slow fal request', () => {
  let stack: Stack;
  let admin: Redis;
  const interactive = { model: 'flux.2-dev-turbo', prompt: 'a red kite', priority: 'interactive' };

  beforeAll(async () => {
    stack = await startStack({
      workerEnv: {
        FAL_LATENCY_PRIOR_SCALE: '0.02',
        HEDGE_PERCENTILE: '0.95',
        FAL_ATTEMPT_TIMEOUT_MIN_MS: '20000',
        HEDGE_PRIORITIES: 'interactive',
        // Exactly two hedges per minute whatever the traffic: the third slow job finds the budget spent.
        HEDGE_BUDGET_RATIO: '0',
        HEDGE_BUDGET_MIN: '2',
      },
    });
    admin = new Redis(stack.redis.url);
  });
  afterAll(async () => {
    admin?.disconnect();
    await stack?.close();
  });
  beforeEach(() => stack.sim.reset());

  it('sends exactly one hedge past the p95; the hedge finishes first and the slow request is cancelled at fal', async () => {
    stack.sim.setFaults([{ on: 'outcome', delayMs: 8_000 }]);
    const job = await waitForTerminal(stack.apiUrl, (await submitJob(stack.apiUrl, interactive)).id);
    expect(job.status).toBe('succeeded');
    expect(job.attempts).toBe(1);
    expect(stack.sim.stats()).toMatchObject({ submits: 2, cancels: 1 });
    // Well before the slow request would have finished.
    expect(job.timings.provider_ms).toBeLessThan(4_000);
    // Only the winner stays on the job; it is the hedge.
    const record = await createJobStore(admin).get(job.id);
    expect(record?.fal_requests).toHaveLength(1);
    expect(record?.fal_requests[0]?.hedge).toBe(true);
  });

  it('does not hedge bulk work (while the budget would allow it)', async () => {
    stack.sim.setFaults([{ on: 'outcome', delayMs: 1_000 }]);
    const job = await waitForTerminal(
      stack.apiUrl,
      (await submitJob(stack.apiUrl, { ...interactive, priority: 'bulk' })).id,
    );
    expect(job.status).toBe('succeeded');
    expect(stack.sim.stats()).toMatchObject({ submits: 1, cancels: 0 });
  });

  it('keeps the first request when it finishes before its hedge, and cancels the hedge', async () => {
    stack.sim.setFaults([
      { on: 'outcome', delayMs: 900 },
      { on: 'outcome', delayMs: 8_000 },
    ]);
    const job = await waitForTerminal(stack.apiUrl, (await submitJob(stack.apiUrl, interactive)).id);
    expect(job.status).toBe('succeeded');
    expect(stack.sim.stats()).toMatchObject({ submits: 2, cancels: 1 });
    const record = await createJobStore(admin).get(job.id);
    expect(record?.fal_requests).toHaveLength(1);
    expect(record?.fal_requests[0]?.hedge).toBeUndefined();
  });

  it('sends no hedge once the hedge budget is spent', async () => {
    stack.sim.setFaults([{ on: 'outcome', delayMs: 1_500 }]);
    const job = await waitForTerminal(stack.apiUrl, (await submitJob(stack.apiUrl, interactive)).id);
    expect(job.status).toBe('succeeded');
    expect(stack.sim.stats()).toMatchObject({ submits: 1, cancels: 0 });
  });
});
