import type { FaultRule, SimStats } from '@fluxq/fal-sim';
import { createCircuitBreaker } from '@fluxq/resilience';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { submitJob, waitForTerminal } from './jobs-client.js';
import { type Stack, startStack } from './stack.js';

/**
 * Each row of the failure taxonomy (packages/resilience/src/failure-taxonomy.ts) driven
 * through the simulator's fault switches: attempts used, final status, error code and the
 * fal calls made.
 */
interface Row {
  name: string;
  faults: FaultRule[];
  expected: {
    status: 'succeeded' | 'failed';
    attempts: number;
    code?: string;
    /** Requests fal accepted (a submit answered with an error is not one). */
    submits: number;
    cancels?: number;
  };
}

const ROWS: Row[] = [
  {
    name: 'fal 422 on the result → fails at once',
    faults: [{ on: 'outcome', status: 422 }],
    expected: { status: 'failed', attempts: 1, code: 'provider_validation_error', submits: 1 },
  },
  {
    name: 'fal 400 on submit → fails at once',
    faults: [{ on: 'submit', status: 400, body: { detail: 'image_size is not allowed' } }],
    expected: { status: 'failed', attempts: 1, code: 'provider_validation_error', submits: 0 },
  },
  {
    name: 'has_nsfw_concepts → fails at once as content_filtered',
    faults: [{ on: 'outcome', nsfw: true }],
    expected: { status: 'failed', attempts: 1, code: 'content_filtered', submits: 1 },
  },
  {
    name: 'fal 404 on status → the lost request is submitted again in the same attempt',
    faults: [{ on: 'status', status: 404, body: { detail: 'Request not found' } }],
    expected: { status: 'succeeded', attempts: 1, submits: 2 },
  },
  {
    name: 'fal 429 on submit → the queue slows, no attempt spent',
    faults: [{ on: 'submit', status: 429, headers: { 'Retry-After': '1' } }],
    expected: { status: 'succeeded', attempts: 1, submits: 1 },
  },
  ...[500, 502, 503, 504].map(
    (status): Row => ({
      name: `fal ${status} on the result → retried`,
      faults: [{ on: 'outcome', status }],
      expected: { status: 'succeeded', attempts: 2, submits: 2 },
    }),
  ),
  {
    name: 'fal 504 with x-fal-request-timeout-type: user → retried at our layer',
    faults: [{ on: 'outcome', status: 504, headers: { 'X-Fal-Request-Timeout-Type': 'user' } }],
    expected: { status: 'succeeded', attempts: 2, submits: 2 },
  },
  {
    name: 'connection resets on status (past the client’s brief read retries) → the next attempt resumes the same request',
    faults: [{ on: 'status', reset: true, times: 3 }],
    expected: { status: 'succeeded', attempts: 2, submits: 1 },
  },
  {
    name: 'a malformed result body → retried with a new request',
    faults: [{ on: 'result', malformed: true }],
    expected: { status: 'succeeded', attempts: 2, submits: 2 },
  },
  {
    name: 'a request past our attempt timeout → cancelled at fal and retried',
    faults: [{ on: 'outcome', hang: true }],
    expected: { status: 'succeeded', attempts: 2, submits: 2, cancels: 1 },
  },
];

describe('the failure taxonomy, row by row through the simulator', () => {
  let stack: Stack;
  let admin: Redis;

  beforeAll(async () => {
    stack = await startStack({
      workerEnv: {
        JOB_BACKOFF_MS: '20',
        JOB_BACKOFF_MAX_MS: '100',
        // An attempt times out after 1.5 s whatever the distribution says.
        FAL_ATTEMPT_TIMEOUT_MIN_MS: '1500',
        FAL_ATTEMPT_TIMEOUT_MAX_MS: '1500',
        HEDGE_PRIORITIES: 'none',
        // These rows are about single jobs: keep the breaker out of the way.
        BREAKER_MIN_REQUESTS: '1000',
        BREAKER_AUTH_OPEN_MS: '200',
      },
    });
    admin = new Redis(stack.redis.url);
  });
  afterAll(async () => {
    admin?.disconnect();
    await stack?.close();
  });
  beforeEach(() => stack.sim.reset());

  it.each(ROWS)('$name', async ({ faults, expected }) => {
    stack.sim.setFaults(faults);
    const submitted = await submitJob(stack.apiUrl, { model: 'flux.2-dev-turbo', prompt: 'a lighthouse' });
    const job = await waitForTerminal(stack.apiUrl, submitted.id);
    expect(job.status).toBe(expected.status);
    expect(job.attempts).toBe(expected.attempts);
    if (expected.code) expect(job.error?.code).toBe(expected.code);
    else expect(job.error).toBeNull();
    const stats: SimStats = stack.sim.stats();
    expect(stats.faultsFired).toBeGreaterThanOrEqual(1);
    expect(stats.submits).toBe(expected.submits);
    expect(stats.cancels).toBe(expected.cancels ?? 0);
  });

  it.each([401, 403])(
    'fal %i on submit → fails at once and opens the breaker for that model',
    async (status) => {
      stack.sim.setFaults([{ on: 'submit', status }]);
      const submitted = await submitJob(stack.apiUrl, { model: 'flux.2-dev-flash', prompt: 'a harbour' });
      const job = await waitForTerminal(stack.apiUrl, submitted.id);
      expect(job).toMatchObject({ status: 'failed', attempts: 1, error: { code: 'provider_auth_error' } });
      expect(stack.sim.stats().submits).toBe(0);
      const breaker = createCircuitBreaker(admin);
      expect((await breaker.state('flux.2-dev-flash')).state).not.toBe('closed');
      expect((await breaker.state('flux.2-dev-turbo')).state).toBe('closed');

      // Once the open period is over, a probe closes the breaker again.
      const next = await waitForTerminal(
        stack.apiUrl,
        (await submitJob(stack.apiUrl, { model: 'flux.2-dev-flash', prompt: 'a harbour' })).id,
      );
      expect(next.status).toBe('succeeded');
      expect((await breaker.state('flux.2-dev-flash')).state).toBe('closed');
    },
  );
});
