import {
  getFreePort,
  type PromScrape,
  scrapePrometheus,
  startWebhookReceiver,
  type WebhookReceiver,
  waitFor,
} from '@fluxq/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Job, submitJob, waitForTerminal } from './jobs-client.js';
import { type Stack, startStack } from './stack.js';

const METRICS_TOKEN = 'e2e-metrics-token-0123456789';
const ADMIN_KEY = 'fq_admin_metrics_e2e_0123';
const TENANT_KEY = 'fq_acme_metrics_e2e_0123';
const auth = { authorization: `Bearer ${TENANT_KEY}` };
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const FAL_MAX_CONCURRENCY = 7;

/**
 * Prometheus metrics of the whole stack (API + two worker processes + fal-sim): a known set
 * of jobs, some failing, one retried through a breaker opening, one rate-limited, one
 * hedged, one with a webhook; then the API's and both workers' `/metrics`, parsed by a real
 * Prometheus text parser, must count exactly that work.
 */
describe('Prometheus metrics', () => {
  let stack: Stack;
  let receiver: WebhookReceiver;
  let workerUrls: string[];
  const jobs: Job[] = [];
  const run = async (body: Record<string, unknown>) => {
    const job = await waitForTerminal(
      stack.apiUrl,
      (await submitJob(stack.apiUrl, body, auth)).id,
      30_000,
      auth,
    );
    jobs.push(job);
    return job;
  };
  const scrapeWorkers = () =>
    Promise.all(workerUrls.map((url) => scrapePrometheus(`${url}/metrics`, bearer(METRICS_TOKEN))));
  /** A counter or histogram count summed over every worker. */
  const total = (scrapes: PromScrape[], name: string, labels: Record<string, string> = {}) =>
    scrapes.reduce((sum, scrape) => sum + scrape.sum(name, labels), 0);

  beforeAll(async () => {
    receiver = await startWebhookReceiver();
    const ports = [await getFreePort(), await getFreePort()];
    workerUrls = ports.map((port) => `http://127.0.0.1:${port}`);
    stack = await startStack({
      workers: 0,
      apiEnv: { API_KEYS: `${TENANT_KEY}:acme`, ADMIN_API_KEY: ADMIN_KEY, METRICS_TOKEN },
      workerEnv: {
        METRICS_TOKEN,
        FAL_MAX_CONCURRENCY: String(FAL_MAX_CONCURRENCY),
        // Hedging as in hedging.test.ts: Turbo's tracked p95 ≈ 270 ms, interactive work only.
        FAL_LATENCY_PRIOR_SCALE: '0.02',
        HEDGE_PERCENTILE: '0.95',
        FAL_ATTEMPT_TIMEOUT_MIN_MS: '20000',
        HEDGE_PRIORITIES: 'interactive',
        // Two different jobs failing in a row open the breaker, briefly.
        BREAKER_CONSECUTIVE_FAILURES: '2',
        BREAKER_OPEN_MS: '300',
      },
    });
    for (const port of ports) await stack.startWorker({ METRICS_PORT: String(port) });

    const plain = { model: 'flux.2-dev-turbo', prompt: 'a red kite' };
    for (let i = 0; i < 3; i++) await run(plain);
    // Two jobs whose first requests fail with 500: the breaker opens, a probe closes it, both succeed.
    stack.sim.setFaults([{ on: 'outcome', status: 500, times: 2 }]);
    await Promise.all([run(plain), run(plain)]);
    // A permanent failure.
    stack.sim.setFaults([{ on: 'outcome', status: 422 }]);
    await run(plain);
    // A 429 on submit: the queue slows, no attempt is spent.
    stack.sim.setFaults([{ on: 'submit', status: 429, headers: { 'Retry-After': '1' } }]);
    await run(plain);
    // A slow request of an interactive job: hedged, the loser cancelled at fal.
    stack.sim.setFaults([{ on: 'outcome', delayMs: 8_000 }]);
    await run({ ...plain, priority: 'interactive' });
    stack.sim.setFaults([]);
    await run({ ...plain, webhook_url: receiver.url });
    await receiver.waitForRequests(1);
    // A worker counts right after its write, which the API may show a moment before.
    await waitFor(
      async () => {
        const scrapes = await scrapeWorkers();
        return (
          total(scrapes, 'fluxq_jobs_finished_total') === jobs.length &&
          total(scrapes, 'fluxq_webhook_delivery_attempts_total') === 1
        );
      },
      { timeoutMs: 10_000, message: 'the workers to count every job and the delivery' },
    );
  }, 120_000);
  afterAll(async () => {
    await stack?.close();
    await receiver?.stop();
  });

  it('the jobs ended as the faults say (the work the metrics must count)', () => {
    expect(jobs.map((job) => job.status)).toEqual([
      'succeeded',
      'succeeded',
      'succeeded',
      'succeeded',
      'succeeded',
      'failed',
      'succeeded',
      'succeeded',
      'succeeded',
    ]);
    expect(jobs[5]?.error?.code).toBe('provider_validation_error');
  });

  it('workers count jobs by terminal status and error code, and time them end to end', async () => {
    const scrapes = await scrapeWorkers();
    const labels = { model: 'flux.2-dev-turbo', operation: 'generate' };
    expect(
      total(scrapes, 'fluxq_jobs_finished_total', { ...labels, status: 'succeeded', error_code: 'none' }),
    ).toBe(8);
    expect(
      total(scrapes, 'fluxq_jobs_finished_total', {
        status: 'failed',
        error_code: 'provider_validation_error',
      }),
    ).toBe(1);
    expect(total(scrapes, 'fluxq_jobs_finished_total')).toBe(9);
    expect(total(scrapes, 'fluxq_job_duration_seconds', { ...labels, outcome: 'succeeded' })).toBe(8);
    expect(total(scrapes, 'fluxq_job_duration_seconds', { outcome: 'failed' })).toBe(1);
    // The histogram's sum is the jobs' own total_ms (accepted → stored), within rounding.
    const sumS = scrapes.reduce((sum, scrape) => sum + scrape.observedSum('fluxq_job_duration_seconds'), 0);
    const ownS = jobs.reduce((sum, job) => sum + (job.timings.total_ms ?? 0), 0) / 1000;
    expect(Math.abs(sumS - ownS)).toBeLessThan(0.05);
  });

  it('workers count fal submits, the hedge, retries, cancels and the 429 as fal-sim saw them', async () => {
    const scrapes = await scrapeWorkers();
    const sim = stack.sim.stats();
    expect(total(scrapes, 'fluxq_fal_submits_total')).toBe(sim.submits);
    expect(total(scrapes, 'fluxq_fal_submits_total', { kind: 'hedge' })).toBe(1);
    // A retry after the breaker opened is not counted as an attempt: it may submit as `first` again.
    expect(total(scrapes, 'fluxq_fal_submits_total', { kind: 'first' })).toBeGreaterThanOrEqual(9);
    expect(total(scrapes, 'fluxq_fal_hedges_total', { decision: 'sent' })).toBe(1);
    expect(total(scrapes, 'fluxq_fal_cancels_total', { outcome: 'ok' })).toBe(sim.cancels);
    expect(sim.cancels).toBeGreaterThanOrEqual(1);
    // The two 500s are retried; so is any retry that ran into the open breaker (how many depends
    // on timing), so the count is checked against the jobs' own attempt logs. The 429's attempt
    // is logged as retried too, but it is given back (a rate limit, counted below), not a retry.
    const rateLimited = jobs[6]!;
    expect(rateLimited.attempt_log.filter((entry) => entry.outcome === 'retried')).toHaveLength(1);
    const retriedOnProviderError = jobs
      .filter((job) => job !== rateLimited)
      .flatMap((job) => job.attempt_log)
      .filter((entry) => entry.outcome === 'retried' && entry.error_code === 'provider_error').length;
    expect(retriedOnProviderError).toBeGreaterThanOrEqual(2);
    expect(total(scrapes, 'fluxq_job_retries_total', { error_code: 'provider_error' })).toBe(
      retriedOnProviderError,
    );
    expect(total(scrapes, 'fluxq_fal_rate_limited_total', { model: 'flux.2-dev-turbo' })).toBe(1);
    // Each succeeded job's winning request, plus the hedge's loser (canceled) and the failures.
    expect(total(scrapes, 'fluxq_fal_request_duration_seconds', { outcome: 'succeeded' })).toBe(8);
    expect(total(scrapes, 'fluxq_fal_request_duration_seconds', { outcome: 'canceled' })).toBe(1);
    expect(total(scrapes, 'fluxq_fal_request_duration_seconds', { outcome: 'failed' })).toBe(3);
  });

  it('workers count the breaker opening and closing once, and show it closed again', async () => {
    const scrapes = await scrapeWorkers();
    const turbo = { model: 'flux.2-dev-turbo' };
    expect(total(scrapes, 'fluxq_breaker_transitions_total', { ...turbo, from: 'closed', to: 'open' })).toBe(
      1,
    );
    expect(
      total(scrapes, 'fluxq_breaker_transitions_total', { ...turbo, from: 'half-open', to: 'closed' }),
    ).toBe(1);
    for (const scrape of scrapes) {
      expect(scrape.sum('fluxq_breaker_state', { ...turbo, state: 'closed' })).toBe(1);
      expect(scrape.sum('fluxq_breaker_state', { ...turbo, state: 'open' })).toBe(0);
    }
  });

  it('workers count the webhook delivery and show the fal slots against FAL_MAX_CONCURRENCY', async () => {
    const scrapes = await scrapeWorkers();
    expect(total(scrapes, 'fluxq_webhook_delivery_attempts_total', { outcome: 'delivered' })).toBe(1);
    for (const scrape of scrapes) {
      expect(scrape.sum('fluxq_fal_slots_limit')).toBe(FAL_MAX_CONCURRENCY);
      expect(scrape.sum('fluxq_fal_slots_in_use')).toBe(0);
      expect(scrape.sum('fluxq_fal_slots_held')).toBe(0);
      expect(scrape.families.get('process_resident_memory_bytes')?.type).toBe('GAUGE');
    }
  });

  it('the API counts the submits and shows the queues empty', async () => {
    const api = await scrapePrometheus(`${stack.apiUrl}/metrics`, bearer(ADMIN_KEY));
    expect(api.sum('fluxq_api_requests_total', { method: 'POST', route: '/v1/jobs', status: '202' })).toBe(9);
    expect(api.sum('fluxq_queue_depth')).toBe(0);
    expect(api.sum('fluxq_queue_jobs', { queue: 'images', state: 'active' })).toBe(0);
  });

  it('no label takes an unbounded value: no job, request or delivery id, no tenant', async () => {
    const scrapes = [
      ...(await scrapeWorkers()),
      await scrapePrometheus(`${stack.apiUrl}/metrics`, bearer(METRICS_TOKEN)),
    ];
    const ids = jobs.map((job) => job.id);
    for (const scrape of scrapes) {
      for (const { family, label, value } of scrape.labelValues()) {
        expect(label, family).not.toBe('tenant');
        expect(value, `${family}{${label}}`).not.toMatch(/^(job|batch|whd|evt)_|[0-9a-f]{8}-[0-9a-f]{4}-/);
        expect(ids).not.toContain(value);
      }
    }
  });

  it('a worker’s /metrics wants METRICS_TOKEN when it is set; the API’s the token or the admin key', async () => {
    const worker = workerUrls[0]!;
    expect((await fetch(`${worker}/metrics`)).status).toBe(401);
    expect((await fetch(`${worker}/metrics`, { headers: bearer(`${METRICS_TOKEN}-not`) })).status).toBe(401);
    expect((await fetch(`${worker}/metrics`, { headers: bearer(METRICS_TOKEN) })).status).toBe(200);
    // The probes stay open: orchestrators send no token.
    expect((await fetch(`${worker}/healthz`)).status).toBe(200);
    expect((await fetch(`${stack.apiUrl}/metrics`)).status).toBe(401);
    expect((await fetch(`${stack.apiUrl}/metrics`, { headers: auth })).status).toBe(404);
    expect((await fetch(`${stack.apiUrl}/metrics`, { headers: bearer(METRICS_TOKEN) })).status).toBe(200);
  });
});
