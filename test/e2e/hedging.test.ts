import { createJobStore } from '@fluxq/queue';
import { createLatencyTracker, createTokenBudget, latencySeries } from '@fluxq/resilience';
import { waitFor } from '@fluxq/testing';
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
        // Two hedge tokens and no refill worth speaking of: the third slow job finds the budget spent.
        HEDGE_BUDGET_RATIO: '0',
        HEDGE_BUDGET_MIN: '1',
        HEDGE_BUDGET_WINDOW_MS: '3600000',
        HEDGE_BUDGET_BURST: '2',
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
    // The job's attempt log keeps both, with when the hedge came due and what became of each.
    const [attempt] = job.attempt_log;
    expect(attempt?.hedges).toEqual([expect.objectContaining({ trigger: 'slow', decision: 'sent' })]);
    expect(attempt?.requests).toEqual([
      expect.objectContaining({ hedge: false, outcome: 'canceled' }),
      expect.objectContaining({ hedge: true, outcome: 'succeeded' }),
    ]);
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
    // The job says why: the hedge came due and the budget refused it.
    expect(job.attempt_log[0]?.hedges).toEqual([
      expect.objectContaining({ trigger: 'slow', decision: 'budget_spent' }),
    ]);
  });
});

/**
 * The same, with a hedge budget that only its floor refills (one token per 1.5 s, one at
 * most) and a tracked queue time, so a request waiting in fal's queue is hedged early.
 */
describe('hedging a request still queued at fal, and at low traffic', () => {
  let stack: Stack;
  let admin: Redis;
  const interactive = { model: 'flux.2-dev-turbo', prompt: 'a red kite', priority: 'interactive' };
  const series = latencySeries('flux.2-dev-turbo', 'generate');
  const floor = { ratio: 0, floorPerWindow: 1, windowMs: 1_500, capacity: 1 };
  /** The worker's hedge budget, read from the same Redis key. */
  let hedgeTokens: () => Promise<number>;

  beforeAll(async () => {
    stack = await startStack({
      workerEnv: {
        FAL_LATENCY_PRIOR_SCALE: '0.02',
        HEDGE_PERCENTILE: '0.95',
        HEDGE_QUEUE_PERCENTILE: '0.95',
        FAL_ATTEMPT_TIMEOUT_MIN_MS: '20000',
        HEDGE_BUDGET_RATIO: String(floor.ratio),
        HEDGE_BUDGET_MIN: String(floor.floorPerWindow),
        HEDGE_BUDGET_WINDOW_MS: String(floor.windowMs),
        HEDGE_BUDGET_BURST: String(floor.capacity),
      },
    });
    admin = new Redis(stack.redis.url);
    const budget = createTokenBudget(admin, { name: 'hedge-tokens', ...floor });
    hedgeTokens = () => budget.tokens(series);
    // 50 requests that waited ~5 ms in fal's queue: enough for the tracked queue p95 to count.
    const tracker = createLatencyTracker(admin);
    for (let i = 0; i < 50; i++)
      await tracker.record(series, { ok: true, totalMs: 20, queueMs: 5, runMs: 15 });
  });
  afterAll(async () => {
    admin?.disconnect();
    await stack?.close();
  });
  beforeEach(async () => {
    stack.sim.reset();
    await waitFor(async () => (await hedgeTokens()) >= 1, { timeoutMs: 10_000, message: 'a hedge token' });
  });

  it('hedges a request still queued at fal; the first to get a runner wins and the one still queued is cancelled unbilled', async () => {
    // One runner at fal, taken by a bulk job (never hedged): the interactive job's request queues.
    stack.sim.configure({ maxConcurrency: 1 });
    try {
      stack.sim.setFaults([
        { on: 'outcome', delayMs: 1_500 },
        { on: 'outcome', delayMs: 300 },
      ]);
      const blocker = await submitJob(stack.apiUrl, { ...interactive, priority: 'bulk' });
      await waitFor(() => stack.sim.stats().inProgress === 1, {
        timeoutMs: 10_000,
        message: 'the blocker to run',
      });
      const job = await waitForTerminal(stack.apiUrl, (await submitJob(stack.apiUrl, interactive)).id);
      expect(job.status).toBe('succeeded');
      expect((await waitForTerminal(stack.apiUrl, blocker.id)).status).toBe('succeeded');

      const [attempt] = job.attempt_log;
      expect(attempt?.hedges).toEqual([expect.objectContaining({ trigger: 'queued', decision: 'sent' })]);
      // The first request got the runner first; its hedge, still queued, was cancelled at once.
      expect(attempt?.requests).toEqual([
        expect.objectContaining({ hedge: false, outcome: 'succeeded' }),
        expect.objectContaining({ hedge: true, outcome: 'canceled', running_ms: null }),
      ]);
      expect(attempt?.requests[0]?.running_ms).not.toBeNull();
      // Three submits, one cancel, and only the two that ran are billed.
      expect(stack.sim.stats()).toMatchObject({ submits: 3, cancels: 1, billed: 2 });
    } finally {
      stack.sim.configure({ maxConcurrency: null });
    }
  });

  it('does not starve at low traffic: slow jobs far apart each get their hedge from the floor', async () => {
    // No traffic earns tokens (ratio 0) and the bucket holds one: only the floor's refill
    // between jobs pays for the next hedge (beforeEach and the loop wait for it).
    for (let i = 0; i < 3; i++) {
      if (i > 0) {
        await waitFor(async () => (await hedgeTokens()) >= 1, {
          timeoutMs: 10_000,
          message: 'a hedge token',
        });
      }
      stack.sim.setFaults([{ on: 'outcome', delayMs: 8_000 }]);
      const job = await waitForTerminal(stack.apiUrl, (await submitJob(stack.apiUrl, interactive)).id);
      expect(job.status).toBe('succeeded');
      expect(job.attempt_log[0]?.hedges).toEqual([
        expect.objectContaining({ trigger: 'slow', decision: 'sent' }),
      ]);
      const record = await createJobStore(admin).get(job.id);
      expect(record?.fal_requests.map((ref) => ref.hedge)).toEqual([true]);
    }
    expect(stack.sim.stats()).toMatchObject({ submits: 6, cancels: 3 });
  });
});

/** One fal slot for the whole account: a hedge would have to wait for it, so it is not sent. */
describe('hedging with the account concurrency all in use', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({
      workerEnv: {
        FAL_LATENCY_PRIOR_SCALE: '0.02',
        HEDGE_PERCENTILE: '0.95',
        FAL_ATTEMPT_TIMEOUT_MIN_MS: '20000',
        FAL_MAX_CONCURRENCY: '1',
      },
    });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('skips the hedge as no_slot instead of waiting for a slot, and the first request still delivers', async () => {
    stack.sim.setFaults([{ on: 'outcome', delayMs: 1_500 }]);
    const job = await waitForTerminal(
      stack.apiUrl,
      (
        await submitJob(stack.apiUrl, {
          model: 'flux.2-dev-turbo',
          prompt: 'a kite',
          priority: 'interactive',
        })
      ).id,
    );
    expect(job.status).toBe('succeeded');
    expect(job.attempt_log[0]?.hedges).toEqual([
      expect.objectContaining({ trigger: 'slow', decision: 'no_slot' }),
    ]);
    expect(stack.sim.stats()).toMatchObject({ submits: 1, cancels: 0 });
  });
});
