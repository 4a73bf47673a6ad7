import { setTimeout as delay } from 'node:timers/promises';
import { createCircuitBreaker } from '@fluxq/resilience';
import { waitFor } from '@fluxq/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Job, submitJob, waitForTerminal } from './jobs-client.js';
import { type Stack, startStack } from './stack.js';

const JOBS = 30;
const OUTAGE_MS = 4_000;
const OPEN_MS = 300;

describe('a fal outage shorter than the job deadline', () => {
  let stack: Stack;
  let admin: Redis;

  beforeAll(async () => {
    stack = await startStack({
      workerEnv: {
        JOB_ATTEMPTS: '3',
        JOB_BACKOFF_MS: '20',
        JOB_BACKOFF_MAX_MS: '100',
        BREAKER_MIN_REQUESTS: '5',
        BREAKER_FAILURE_RATIO: '0.5',
        BREAKER_WINDOW_MS: '10000',
        BREAKER_OPEN_MS: String(OPEN_MS),
        BREAKER_MAX_OPEN_MS: String(OPEN_MS * 2),
        HEDGE_PRIORITIES: 'none',
      },
    });
    admin = new Redis(stack.redis.url);
  });
  afterAll(async () => {
    admin?.disconnect();
    await stack?.close();
  });

  it('fails no job, loses none, and sends fal little more than probes while it lasts', async () => {
    const breaker = createCircuitBreaker(admin);
    stack.sim.setFailureRate('*', 1);
    const ids: string[] = [];
    for (let i = 0; i < JOBS; i++) {
      ids.push((await submitJob(stack.apiUrl, { model: 'flux.2-dev-turbo', prompt: `outage ${i}` })).id);
    }
    await waitFor(async () => (await breaker.state('flux.2-dev-turbo')).state !== 'closed', {
      timeoutMs: 10_000,
    });
    // From here on fal sees only probes (and the jobs of the first wave that were already in flight).
    const submitsAtOpen = stack.sim.stats().submits;
    // The outage itself: fal keeps failing this long (the scenario, not a wait for some state).
    await delay(OUTAGE_MS);
    const outageSubmits = stack.sim.stats().submits - submitsAtOpen;
    stack.sim.setFailureRate('*', 0);

    const jobs: Job[] = await Promise.all(ids.map((id) => waitForTerminal(stack.apiUrl, id, 30_000)));
    expect(jobs.map((job) => job.status)).toEqual(ids.map(() => 'succeeded'));
    // One probe per open period at most (the period doubles after each failed probe) plus
    // requests of the first wave that were already in flight when the breaker opened.
    const probeBound = Math.ceil(OUTAGE_MS / OPEN_MS) + 5;
    expect(outageSubmits).toBeLessThanOrEqual(probeBound);
    // Without the breaker every job would have retried through the outage.
    expect(outageSubmits).toBeLessThan(JOBS);
    expect((await breaker.state('flux.2-dev-turbo')).state).toBe('closed');
  });
});

// Issue 11: right after busy traffic the breaker's window is full of successes, so the
// failure ratio alone needs hundreds of failures to open, and jobs burned their attempts
// meanwhile. The streak of different jobs failing sees the outage within a few requests,
// and attempts lost to it are given back.
describe('a fal outage that starts right after a busy period', () => {
  const BUSY_JOBS = 150;
  const OUTAGE_JOBS = 20;
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({
      // The breaker's defaults (30 s window, 10 outcomes, 50 %, 5 in a row), but short
      // open periods so the test does not wait out the default 5 s ones.
      workerEnv: { BREAKER_OPEN_MS: '300', BREAKER_MAX_OPEN_MS: '600', HEDGE_PRIORITIES: 'none' },
    });
  });
  afterAll(async () => stack?.close());

  it('fails no job of the outage, and spends none of their attempts on it', async () => {
    const busy = await Promise.all(
      Array.from({ length: BUSY_JOBS }, (_, i) =>
        submitJob(stack.apiUrl, { model: 'flux.2-dev-turbo', prompt: `busy ${i}` }),
      ),
    );
    const done = await Promise.all(busy.map((job) => waitForTerminal(stack.apiUrl, job.id, 60_000)));
    expect(done.every((job) => job.status === 'succeeded')).toBe(true);

    stack.sim.setFailureRate('*', 1);
    const ids: string[] = [];
    for (let i = 0; i < OUTAGE_JOBS; i++) {
      ids.push((await submitJob(stack.apiUrl, { model: 'flux.2-dev-turbo', prompt: `outage ${i}` })).id);
    }
    // Every outage job has been tried at fal at least once, and the breaker saw it.
    await waitFor(() => stack.sim.stats().failed >= OUTAGE_JOBS, { timeoutMs: 20_000 });
    // The outage goes on a little longer than the jobs' five attempts with backoff would last.
    await delay(2_000);
    stack.sim.setFailureRate('*', 0);

    const jobs = await Promise.all(ids.map((id) => waitForTerminal(stack.apiUrl, id, 30_000)));
    expect(jobs.map((job) => job.status)).toEqual(ids.map(() => 'succeeded'));
    // Only the first few jobs' failures (before the streak showed an outage) are counted.
    const counted = jobs.map((job) => job.attempt_log.filter((a) => a.counted).length);
    expect(Math.max(...counted)).toBeLessThanOrEqual(2);
  });
});
