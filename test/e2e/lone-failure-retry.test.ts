import { getFreePort, type PromScrape, scrapePrometheus } from '@fluxq/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { submitJob, waitForTerminal } from './jobs-client.js';
import { type Stack, startStack } from './stack.js';

const METRICS_TOKEN = 'e2e-lone-failure-token-0123456789';

/**
 * A job's first failure while fal serves everyone else (one runner's failure) is retried at
 * once; a failure that repeats backs off. The worker's retry counter names which it was.
 */
describe('retrying a lone fal failure', () => {
  let stack: Stack;
  let metricsUrl: string;
  const retries = (scrape: PromScrape, reason: string) =>
    scrape.sum('fluxq_job_retries_total', { reason, error_code: 'provider_error' });

  beforeAll(async () => {
    const port = await getFreePort();
    metricsUrl = `http://127.0.0.1:${port}/metrics`;
    stack = await startStack({ workerEnv: { METRICS_PORT: String(port), METRICS_TOKEN } });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('retries the first failure at once and backs off from the second', async () => {
    // The job's first two requests end with fal's 500, the third succeeds.
    stack.sim.setFaults([{ on: 'outcome', status: 500, times: 2 }]);
    const job = await waitForTerminal(
      stack.apiUrl,
      (await submitJob(stack.apiUrl, { model: 'flux.2-dev-turbo', prompt: 'a red kite' })).id,
    );
    expect(job.status).toBe('succeeded');
    expect(job.attempt_log.map((attempt) => attempt.outcome)).toEqual(['retried', 'retried', 'succeeded']);

    const scrape = await scrapePrometheus(metricsUrl, { authorization: `Bearer ${METRICS_TOKEN}` });
    // Attempt 1 failed alone (no other job's failure before it): no backoff.
    expect(retries(scrape, 'lone failure')).toBe(1);
    // Attempt 2 failed too: the same job failing again is not one runner's bad luck.
    expect(retries(scrape, 'backoff')).toBe(1);
  });
});
