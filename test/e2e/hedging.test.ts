import { CLASSES, schedulerKeys } from '@fluxq/queue';
import { createLatencyTracker, createTokenBudget, latencySeries } from '@fluxq/resilience';
import { createJobStore } from '@fluxq/store';
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

  it('hedges a request still queued at fal; when the first gets a runner first, the hedge is kept until the first wins', async () => {
    // One runner at fal, taken by a bulk job (never hedged): the interactive job's request queues.
    stack.sim.configure({ maxConcurrency: 1 });
    try {
      stack.sim.setFaults([
        // Long enough that the interactive job's request queues behind it even on a loaded
        // machine (with 1.5 s, CI once saw the blocker finish first: no queue, a slow hedge).
        { on: 'outcome', delayMs: 5_000 },
        { on: 'outcome', delayMs: 300 },
        // The hedge, once it runs, would run until cancelled: only the first can win.
        { on: 'outcome', hang: true },
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
      // The first request got the runner first (fal's queue is first come, first served). Its
      // long queue predicts a slow run, so the hedge was not cancelled then: only once the
      // first had delivered.
      expect(attempt?.requests).toEqual([
        expect.objectContaining({ hedge: false, outcome: 'succeeded' }),
        expect.objectContaining({ hedge: true, outcome: 'canceled' }),
      ]);
      const [first, hedge] = attempt?.requests ?? [];
      expect(first?.running_ms).not.toBeNull();
      expect(hedge?.ended_ms).toBeGreaterThanOrEqual(first?.ended_ms ?? Number.POSITIVE_INFINITY);
      await waitFor(() => stack.sim.stats().queued + stack.sim.stats().inProgress === 0, {
        timeoutMs: 10_000,
        message: 'the hedge to be cancelled at fal',
      });
      expect(stack.sim.stats()).toMatchObject({ submits: 3, cancels: 1 });
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

/**
 * Two fal slots for the whole account, both busy: a due hedge waits for one in line under its
 * job's class, while its request races on.
 */
describe('hedging with the account concurrency all in use', () => {
  let stack: Stack;
  let admin: Redis;
  const interactive = { model: 'flux.2-dev-turbo', prompt: 'a kite', priority: 'interactive' };
  const standard = { ...interactive, priority: 'default' };
  /** Absolute submit times of a job's fal requests, from its stored attempt log. */
  const submitTimes = async (id: string) => {
    const record = await createJobStore(admin).get(id);
    return (record?.attempt_log ?? []).flatMap((a) =>
      a.requests.map((r) => ({ hedge: r.hedge, at: r.submitted_ms })),
    );
  };
  const ticketsWaiting = async () => {
    let total = 0;
    for (const priority of CLASSES) total += await admin.zcard(schedulerKeys.wait(priority));
    return total;
  };
  /** Submits a job and returns once fal has a request of it running. */
  const submitRunning = async (body: unknown) => {
    const running = stack.sim.stats().inProgress + 1;
    const job = await submitJob(stack.apiUrl, body);
    await waitFor(() => stack.sim.stats().inProgress >= running, {
      timeoutMs: 10_000,
      message: 'the job at fal',
    });
    return job;
  };

  beforeAll(async () => {
    stack = await startStack({
      workerEnv: {
        FAL_LATENCY_PRIOR_SCALE: '0.02',
        HEDGE_PERCENTILE: '0.95',
        FAL_ATTEMPT_TIMEOUT_MIN_MS: '20000',
        FAL_MAX_CONCURRENCY: '2',
      },
    });
    admin = new Redis(stack.redis.url);
  });
  afterAll(async () => {
    admin?.disconnect();
    await stack?.close();
  });
  beforeEach(() => stack.sim.reset());

  it('gives the next free slot to an interactive job’s hedge before default jobs waiting in line', async () => {
    // A default job holds one slot for 2 s, the interactive job the other for 4 s (its hedge comes
    // due after ≈ 270 ms); then two default jobs queue for a slot.
    stack.sim.setFaults([
      { on: 'outcome', delayMs: 2_000 },
      { on: 'outcome', delayMs: 4_000 },
    ]);
    const holder = await submitRunning(standard);
    const slow = await submitRunning(interactive);
    const waiting = [await submitJob(stack.apiUrl, standard), await submitJob(stack.apiUrl, standard)];
    const jobs = await Promise.all(
      [holder, slow, ...waiting].map((j) => waitForTerminal(stack.apiUrl, j.id)),
    );
    expect(jobs.map((j) => j.status)).toEqual(['succeeded', 'succeeded', 'succeeded', 'succeeded']);
    const [, hedged] = jobs;
    expect(hedged?.attempt_log[0]?.hedges).toEqual([
      expect.objectContaining({ trigger: 'slow', decision: 'sent' }),
    ]);
    // The hedge won (long before the 4 s request would have) and the slow first request was cancelled.
    expect(hedged?.attempt_log[0]?.requests).toEqual([
      expect.objectContaining({ hedge: false, outcome: 'canceled' }),
      expect.objectContaining({ hedge: true, outcome: 'succeeded' }),
    ]);
    // The slot the holder freed went to the hedge: both default jobs were submitted after it.
    const hedgeAt = (await submitTimes(slow.id)).find((r) => r.hedge)?.at ?? Number.POSITIVE_INFINITY;
    for (const job of waiting) {
      const [first] = await submitTimes(job.id);
      expect(first?.at).toBeGreaterThanOrEqual(hedgeAt);
    }
    expect(stack.sim.stats().peakInProgress).toBe(2);
  });

  it('withdraws a hedge still in line when its request finishes first; its ticket leaves the order', async () => {
    // Both slots busy: the interactive job's own request (1.5 s) finishes while its hedge waits.
    stack.sim.setFaults([
      { on: 'outcome', delayMs: 4_000 },
      { on: 'outcome', delayMs: 1_500 },
    ]);
    const holder = await submitRunning(standard);
    const slow = await submitRunning(interactive);
    const job = await waitForTerminal(stack.apiUrl, slow.id);
    expect(job.status).toBe('succeeded');
    expect(job.attempt_log[0]?.hedges).toEqual([
      expect.objectContaining({ trigger: 'slow', decision: 'withdrawn' }),
    ]);
    expect(job.attempt_log[0]?.requests).toEqual([
      expect.objectContaining({ hedge: false, outcome: 'succeeded' }),
    ]);
    expect(await ticketsWaiting()).toBe(0);
    expect((await waitForTerminal(stack.apiUrl, holder.id)).status).toBe('succeeded');
    expect(stack.sim.stats()).toMatchObject({ submits: 2, cancels: 0 });
  });
});
