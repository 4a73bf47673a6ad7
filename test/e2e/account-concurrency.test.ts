import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { submitJob, waitForTerminal } from './jobs-client.js';
import { type Stack, startStack } from './stack.js';

const LIMIT = 4;
const JOBS = 36;

describe('FAL_MAX_CONCURRENCY across worker processes', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({
      // Requests take tens of ms at fal so they overlap; no limit at the simulator itself.
      sim: { timeScale: 0.02 },
      workers: 3,
      workerEnv: { FAL_MAX_CONCURRENCY: String(LIMIT), WORKER_CONCURRENCY: '20', HEDGE_PRIORITIES: 'none' },
    });
  });
  afterAll(async () => stack?.close());

  it(`keeps at most ${LIMIT} requests in progress at fal with three workers holding ${JOBS} jobs`, async () => {
    const ids = await Promise.all(
      Array.from({ length: JOBS }, async (_, i) => {
        const body = { model: 'flux.2-dev-turbo', prompt: `slot ${i}`, n: i % 3 === 0 ? 6 : 1 };
        return (await submitJob(stack.apiUrl, body)).id;
      }),
    );
    const jobs = await Promise.all(ids.map((id) => waitForTerminal(stack.apiUrl, id, 60_000)));
    expect(jobs.every((job) => job.status === 'succeeded')).toBe(true);
    const stats = stack.sim.stats();
    // Jobs with n = 6 need two fal requests each.
    expect(stats.submits).toBe(JOBS + JOBS / 3);
    expect(stats.peakInProgress).toBeLessThanOrEqual(LIMIT);
    // The limit was reached, so it is the limiter, not a lack of work, that held the peak.
    expect(stats.peakInProgress).toBe(LIMIT);
  });
});
