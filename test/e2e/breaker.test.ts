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
