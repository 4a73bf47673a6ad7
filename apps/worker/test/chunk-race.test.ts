import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startWorkerHarness, type WorkerHarness } from './harness/worker-harness.js';

/**
 * The chunk race (`awaitChunk`), driven through the real processor: the worker's priors are
 * scaled so Turbo's tracked p95 to result (the hedge point) is ≈ 700 ms, far above what an
 * instant answer takes even on a loaded machine; the simulator answers at once unless
 * an outcome fault holds a request (`hang` keeps it running until it is cancelled).
 * Asserted from outside: the simulator's counters and the job's attempt log.
 */

/** A slow request: about three times the hedge point. Unit: ms. */
const SLOW_MS = 2_000;

/**
 * A harness per test, its workers running: the latency samples one test records move the
 * next one's hedge point. Only the slow trigger: the simulator starts every request at once.
 */
async function startRaceHarness(env: Record<string, string> = {}): Promise<WorkerHarness> {
  const harness = await startWorkerHarness({
    env: {
      FAL_LATENCY_PRIOR_SCALE: '0.05',
      HEDGE_PERCENTILE: '0.95',
      HEDGE_QUEUE_PERCENTILE: '1',
      HEDGE_PRIORITIES: 'interactive',
      ...env,
    },
  });
  await harness.startWorkers();
  return harness;
}

describe('the chunk race', () => {
  let harness: WorkerHarness;
  const interactive = { model: 'flux.2-dev-turbo', prompt: 'a red kite', priority: 'interactive' };

  beforeEach(async () => {
    harness = await startRaceHarness();
  });
  afterEach(async () => {
    await harness?.close();
  });

  describe('when the first request is slow', () => {
    it('sends exactly one hedge, takes its result, and cancels the slow first request at fal', async () => {
      harness.sim.setFaults([
        { on: 'outcome', hang: true },
        // The hedge is slow too (several times the hedge point): still no second hedge.
        { on: 'outcome', delayMs: SLOW_MS },
      ]);
      const job = await harness.waitForJob((await harness.submit(interactive)).id);

      expect(job.status).toBe('succeeded');
      expect(harness.sim.stats()).toMatchObject({ submits: 2, cancels: 1, inProgress: 0, completed: 1 });
      const [attempt] = job.attempt_log ?? [];
      expect(attempt?.hedges).toEqual([expect.objectContaining({ trigger: 'slow', decision: 'sent' })]);
      expect(attempt?.requests).toEqual([
        expect.objectContaining({ hedge: false, outcome: 'canceled' }),
        expect.objectContaining({ hedge: true, outcome: 'succeeded' }),
      ]);
      // Only the winner stays on the job.
      expect(job.fal_requests.map((ref) => ref.hedge)).toEqual([true]);
    });

    it('keeps the first result when the first finishes before its hedge, and cancels the hedge', async () => {
      harness.sim.setFaults([
        { on: 'outcome', delayMs: SLOW_MS },
        { on: 'outcome', hang: true },
      ]);
      const job = await harness.waitForJob((await harness.submit(interactive)).id);

      expect(job.status).toBe('succeeded');
      expect(harness.sim.stats()).toMatchObject({ submits: 2, cancels: 1, inProgress: 0, completed: 1 });
      expect(job.attempt_log?.[0]?.requests).toEqual([
        expect.objectContaining({ hedge: false, outcome: 'succeeded' }),
        expect.objectContaining({ hedge: true, outcome: 'canceled' }),
      ]);
      expect(job.fal_requests.map((ref) => ref.hedge ?? false)).toEqual([false]);
    });
  });

  describe('when the first request is fast or the job is not hedged', () => {
    it('sends no hedge for a request that answers before the hedge point', async () => {
      const job = await harness.waitForJob((await harness.submit(interactive)).id);
      expect(job.status).toBe('succeeded');
      expect(harness.sim.stats()).toMatchObject({ submits: 1, cancels: 0 });
      expect(job.attempt_log?.[0]?.hedges).toEqual([]);
    });

    it('never hedges a bulk job, however slow', async () => {
      harness.sim.setFaults([{ on: 'outcome', delayMs: SLOW_MS }]);
      const job = await harness.waitForJob((await harness.submit({ ...interactive, priority: 'bulk' })).id);
      expect(job.status).toBe('succeeded');
      expect(harness.sim.stats()).toMatchObject({ submits: 1, cancels: 0 });
    });
  });
});

/** Two fal slots for the account and one hedge token that never comes back. */
describe('the chunk race when a hedge may not be sent', () => {
  let harness: WorkerHarness;
  const interactive = { model: 'flux.2-dev-turbo', prompt: 'a red kite', priority: 'interactive' };

  beforeEach(async () => {
    harness = await startRaceHarness({
      FAL_MAX_CONCURRENCY: '2',
      HEDGE_BUDGET_RATIO: '0',
      HEDGE_BUDGET_MIN: '0',
      HEDGE_BUDGET_BURST: '1',
      HEDGE_BUDGET_WINDOW_MS: '3600000',
    });
  });
  afterEach(async () => {
    await harness?.close();
  });

  it('queues a due hedge for a slot while both are in use, and withdraws it when its request finishes first', async () => {
    harness.sim.setFaults([
      // A bulk job (never hedged) holds the other slot until after the interactive job's request ends.
      { on: 'outcome', delayMs: 2 * SLOW_MS },
      { on: 'outcome', delayMs: SLOW_MS },
    ]);
    const blocker = await harness.submit({ ...interactive, priority: 'bulk' });
    await harness.waitForJob(blocker.id, ['running']);
    const job = await harness.waitForJob((await harness.submit(interactive)).id);

    expect(job.status).toBe('succeeded');
    expect(job.attempt_log?.[0]?.hedges).toEqual([
      expect.objectContaining({ trigger: 'slow', decision: 'withdrawn' }),
    ]);
    expect((await harness.waitForJob(blocker.id)).status).toBe('succeeded');
    // The hedge never reached fal.
    expect(harness.sim.stats()).toMatchObject({ submits: 2, cancels: 0 });
  });

  it('spends the one hedge token on the first slow job and sends the next one no hedge', async () => {
    harness.sim.setFaults([
      { on: 'outcome', hang: true },
      { on: 'outcome', delayMs: SLOW_MS },
    ]);
    const first = await harness.waitForJob((await harness.submit(interactive)).id);
    expect(first.attempt_log?.[0]?.hedges).toEqual([expect.objectContaining({ decision: 'sent' })]);

    // Slower than the first job's cancelled request, which its sample pulled the hedge point towards.
    harness.sim.setFaults([{ on: 'outcome', delayMs: 2 * SLOW_MS }]);
    const second = await harness.waitForJob((await harness.submit(interactive)).id);
    expect(second.status).toBe('succeeded');
    expect(second.attempt_log?.[0]?.hedges).toEqual([
      expect.objectContaining({ trigger: 'slow', decision: 'budget_spent' }),
    ]);
    expect(second.attempt_log?.[0]?.requests).toEqual([expect.objectContaining({ outcome: 'succeeded' })]);
  });
});
