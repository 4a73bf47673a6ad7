import { waitFor } from '@fluxq/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getJob, type Job, submitJob } from './jobs-client.js';
import { type Stack, startStack } from './stack.js';

/**
 * Issue 11: a cancel reaches fal within about a second of `POST /v1/jobs/{id}/cancel`,
 * hedges included, not at the worker's next status poll. The worker polls fal once a
 * minute here, so only the job status feed (pub/sub) can make it this fast.
 */
let stack: Stack;

beforeAll(async () => {
  stack = await startStack({
    workerEnv: {
      FAL_POLL_INTERVAL_MS: '60000',
      FAL_WEBHOOK_POLL_INTERVAL_MS: '60000',
      // Hedge at once (the priors scaled to a millisecond), so a hedge is at fal too.
      FAL_LATENCY_PRIOR_SCALE: '0.0001',
    },
  });
});
afterAll(async () => stack?.close());

const cancel = async (id: string): Promise<Job> => {
  const response = await fetch(`${stack.apiUrl}/v1/jobs/${id}/cancel`, { method: 'POST' });
  expect(response.status).toBe(200);
  return (await response.json()) as Job;
};

describe('cancelling a job that runs at fal', () => {
  it.each([
    { priority: 'default', requests: 1 },
    { priority: 'interactive', requests: 2 },
  ])('cancels its $requests request(s) at fal within seconds ($priority)', async ({ priority, requests }) => {
    stack.sim.reset();
    // fal never finishes these unless they are cancelled: every request (the hedge too) hangs;
    // a rule fires once unless told otherwise, and a hedge that finished at once would win.
    stack.sim.setFaults([{ on: 'outcome', hang: true, times: -1 }]);
    try {
      const job = await submitJob(stack.apiUrl, { prompt: 'runs until canceled', priority });
      await waitFor(() => stack.sim.stats().inProgress === requests, {
        message: `${requests} request(s) to run at fal`,
      });
      expect((await cancel(job.id)).status).toBe('canceled');
      // Well before the next poll (a minute away): the worker heard the cancel at once.
      await waitFor(() => stack.sim.stats().cancels === requests, {
        timeoutMs: 5_000,
        message: 'fal to see every request cancelled',
      });
      expect(stack.sim.stats().inProgress).toBe(0);
      expect(await getJob(stack.apiUrl, job.id)).toMatchObject({ status: 'canceled', output: null });
    } finally {
      stack.sim.setFaults([]);
    }
  });
});
