import { HISTOGRAM_GROWTH, HISTOGRAM_MIN_MS } from '@fluxq/resilience';
import { createClient } from '@fluxq/sdk';
import { makeDataUri, makeImage, waitFor } from '@fluxq/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getJob, type Job, submitJob, waitForTerminal } from './jobs-client.js';
import { type Stack, startStack } from './stack.js';

/**
 * `GET /v1/stats` is correct: a known set of jobs runs through the real stack (API and worker
 * processes, fal-sim with real latency and a quarter of its requests failing, so there are
 * retries, failed jobs, hedges and fal failures), then every figure of the table is compared
 * with the same figure computed from those jobs' own `timings` and `attempt_log`
 * (GET /v1/jobs/{id}). Counts and rates must match exactly; percentiles within the histogram's
 * resolution (see `expectQuantile`). Two tenants: each sees only its own delivered figures,
 * the admin key sees both.
 */

const ACME_KEY = 'fq_acme_stats_0123456789';
const GLOBEX_KEY = 'fq_globex_stats_0123456789';
const ADMIN_KEY = 'fq_admin_stats_0123456789';
const auth = (key: string) => ({ authorization: `Bearer ${key}` });

// biome-ignore lint/suspicious/noExplicitAny: the table is read as plain JSON
type Json = any;

let stack: Stack;
const jobs: Array<{ tenant: 'acme' | 'globex'; job: Job }> = [];

async function stats(key: string, query = ''): Promise<Json> {
  const response = await fetch(`${stack.apiUrl}/v1/stats${query}`, { headers: auth(key) });
  expect(response.status).toBe(200);
  return response.json();
}

const rowOf = (table: Json, operation: string) =>
  table.data.find((row: Json) => row.model === 'flux.2-dev-turbo' && row.operation === operation);

/** Nearest-rank percentile: the value `ceil(q·n)` places up the sorted samples. */
function percentile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!;
}

/**
 * Bucket error bound: the histogram's buckets are (10·1.1^(i−1), 10·1.1^i] ms (bucket 0 is
 * [0, 10] ms). The table's q-quantile lies in the bucket holding the nearest-rank sample, so
 * it is off by less than that bucket's width: 10 % of the true value, or 10 ms below 10 ms;
 * plus 0.5 ms for the table rounding to whole ms.
 */
function expectQuantile(figure: Json, values: number[], q: number, key: string) {
  const truth = percentile(values, q);
  const bound = Math.max(HISTOGRAM_MIN_MS, truth * (HISTOGRAM_GROWTH - 1)) + 0.5;
  const got = figure[key];
  expect(
    Math.abs(got - truth),
    `${key}: table ${got} ms, jobs ${truth} ms (bound ${bound} ms)`,
  ).toBeLessThanOrEqual(bound);
}

function expectLatency(figure: Json, values: number[]) {
  expect(figure.samples).toBe(values.length);
  expect(values.length).toBeGreaterThan(0);
  expectQuantile(figure, values, 0.5, 'p50_ms');
  expectQuantile(figure, values, 0.95, 'p95_ms');
  expectQuantile(figure, values, 0.99, 'p99_ms');
}

/** Each fal request once, as it finally ended (a resumed request is listed by each attempt). */
function requestsOf(job: Job) {
  const byId = new Map<string, Job['attempt_log'][number]['requests'][number]>();
  for (const attempt of job.attempt_log) {
    for (const request of attempt.requests) {
      if (!byId.has(request.request_id) || request.outcome !== 'left') byId.set(request.request_id, request);
    }
  }
  return [...byId.values()];
}

/** The provider columns, from the jobs' attempt logs. */
function expectedProvider(of: Job[]) {
  const requests = of.flatMap(requestsOf);
  const ended = requests.filter((r) => ['succeeded', 'failed', 'lost'].includes(r.outcome ?? ''));
  const completed = requests.filter((r) => r.outcome === 'succeeded');
  return {
    requests: ended.length,
    completed: completed.length,
    generation: completed.filter((r) => !r.hedge).map((r) => r.ended_ms! - r.submitted_ms),
    firstByte: requests.filter((r) => r.running_ms !== null).map((r) => r.running_ms! - r.submitted_ms),
  };
}

/** The delivered columns, from the jobs' own views. */
function expectedDelivered(of: Job[]) {
  const ended = of.filter((j) => j.status === 'succeeded' || j.status === 'failed');
  const succeeded = ended.filter((j) => j.status === 'succeeded');
  const images = succeeded.reduce((sum, j) => sum + (j.output?.images.length ?? 0), 0);
  const cost = succeeded.reduce((sum, j) => sum + j.cost.usd, 0);
  return {
    jobs: ended.length,
    succeeded: succeeded.length,
    failed: ended.length - succeeded.length,
    endToEnd: succeeded.map((j) => j.timings.total_ms!),
    hedged: ended.filter((j) => j.attempt_log.some((a) => a.hedges.some((h) => h.decision === 'sent')))
      .length,
    retried: ended.filter((j) => j.attempt_log.length > 1).length,
    submits: ended.reduce((sum, j) => sum + requestsOf(j).length, 0),
    images,
    costPerImage: images > 0 ? cost / images : null,
  };
}

function expectRow(row: Json, of: Job[], provider: Job[]) {
  const p = expectedProvider(provider);
  expect(row.provider.requests).toBe(p.requests);
  expect(row.provider.success_rate).toEqual({ value: p.completed / p.requests, samples: p.requests });
  expectLatency(row.provider.generation, p.generation);
  expectLatency(row.provider.time_to_first_byte, p.firstByte);

  const d = expectedDelivered(of);
  const delivered = row.delivered;
  expect(delivered).toMatchObject({ jobs: d.jobs, succeeded: d.succeeded, failed: d.failed });
  expect(delivered.success_rate).toEqual({ value: d.succeeded / d.jobs, samples: d.jobs });
  expectLatency(delivered.end_to_end, d.endToEnd);
  expect(delivered.hedge_rate).toEqual({ value: d.hedged / d.jobs, samples: d.jobs });
  expect(delivered.retry_rate).toEqual({ value: d.retried / d.jobs, samples: d.jobs });
  expect(delivered.fal_submits_per_job).toEqual({ value: d.submits / d.succeeded, samples: d.succeeded });
  expect(delivered.cost_per_image_usd.samples).toBe(d.images);
  expect(delivered.cost_per_image_usd.value).toBeCloseTo(d.costPerImage!, 6);
}

beforeAll(async () => {
  stack = await startStack({
    // Turbo's latency at 1/20 of real time: p50 ≈ 125 ms, a long tail; a quarter of requests fail.
    sim: { timeScale: 0.05, failureRate: 0.25 },
    apiEnv: { API_KEYS: `${ACME_KEY}:acme,${GLOBEX_KEY}:globex`, ADMIN_API_KEY: ADMIN_KEY },
    workerEnv: {
      FAL_LATENCY_PRIOR_SCALE: '0.05',
      // Two attempts: some jobs fail for good, others succeed on the retry.
      JOB_ATTEMPTS: '2',
      HEDGE_PRIORITIES: 'interactive',
      HEDGE_BUDGET_MIN: '100',
      // The breaker stays out of it: an open breaker only delays the jobs (seconds each), and
      // a quarter of requests failing would open it now and then.
      BREAKER_CONSECUTIVE_FAILURES: '0',
      BREAKER_FAILURE_RATIO: '1',
    },
  });
  const png = makeDataUri(await makeImage({ width: 640, height: 480, format: 'png' }), 'image/png');
  const requests: Array<{ tenant: 'acme' | 'globex'; body: Json }> = [
    ...Array.from({ length: 14 }, (_, i) => ({
      tenant: 'acme' as const,
      body: { prompt: `a kite ${i}`, n: 1 + (i % 3), priority: i % 2 ? 'interactive' : 'default' },
    })),
    ...Array.from({ length: 6 }, (_, i) => ({
      tenant: 'acme' as const,
      body: { prompt: `autumn ${i}`, images: [png], priority: 'interactive' },
    })),
    ...Array.from({ length: 10 }, (_, i) => ({
      tenant: 'globex' as const,
      body: { prompt: `a boat ${i}`, n: 1 + (i % 2), priority: 'interactive' },
    })),
  ];
  const submitted = await Promise.all(
    requests.map(async ({ tenant, body }) => {
      const key = tenant === 'acme' ? ACME_KEY : GLOBEX_KEY;
      const job = await submitJob(stack.apiUrl, { model: 'flux.2-dev-turbo', ...body }, auth(key));
      return { tenant, key, id: job.id };
    }),
  );
  for (const { tenant, key, id } of submitted) {
    await waitForTerminal(stack.apiUrl, id, 60_000, auth(key));
    jobs.push({ tenant, job: await getJob(stack.apiUrl, id, auth(key)) });
  }
  // The worker records a job just after storing its end: wait until the table has them all.
  await waitFor(
    async () => {
      const table = await stats(ADMIN_KEY);
      const counted = table.data.reduce((sum: number, row: Json) => sum + row.delivered.jobs, 0);
      return counted === jobs.length || undefined;
    },
    { timeoutMs: 10_000, message: 'every job to be in the table' },
  );
}, 120_000);
afterAll(async () => stack?.close());

const of = (tenant: 'acme' | 'globex' | 'all', operation: string) =>
  jobs
    .filter((entry) => tenant === 'all' || entry.tenant === tenant)
    .map((entry) => entry.job)
    .filter((job) => job.operation === operation);

describe('GET /v1/stats against the jobs it describes', () => {
  it('ran a mix that exercises every column', () => {
    const all = jobs.map((entry) => entry.job);
    expect(all.filter((j) => j.status === 'succeeded').length).toBeGreaterThan(0);
    expect(all.every((j) => j.status === 'succeeded' || j.status === 'failed')).toBe(true);
    expect(all.some((j) => j.attempt_log.length > 1)).toBe(true);
    expect(all.flatMap(requestsOf).some((r) => r.outcome === 'failed')).toBe(true);
  });

  it("matches the admin key's table (every tenant) with the jobs' own timings", async () => {
    const table = await stats(ADMIN_KEY, '?window=1h');
    expect(table.tenant).toBeNull();
    for (const operation of ['generate', 'edit']) {
      expectRow(rowOf(table, operation), of('all', operation), of('all', operation));
    }
  });

  it('gives each tenant its own delivered figures beside the shared provider figures', async () => {
    for (const [tenant, key] of [
      ['acme', ACME_KEY],
      ['globex', GLOBEX_KEY],
    ] as const) {
      const table = await stats(key);
      expect(table.tenant).toBe(tenant);
      expectRow(rowOf(table, 'generate'), of(tenant, 'generate'), of('all', 'generate'));
    }
    // globex ran no edits: its edit row shows fal's figures and none of acme's jobs.
    const globexEdit = rowOf(await stats(GLOBEX_KEY), 'edit');
    expect(globexEdit.delivered).toMatchObject({ jobs: 0, succeeded: 0, failed: 0 });
    expect(globexEdit.delivered.end_to_end.samples).toBe(0);
    expect(globexEdit.provider.requests).toBe(expectedProvider(of('all', 'edit')).requests);
  });

  it('reads the same figures through every window while they all hold the jobs', async () => {
    const oneHour = await stats(ADMIN_KEY, '?window=1h');
    for (const window of ['24h', '7d', '30d']) {
      const table = await stats(ADMIN_KEY, `?window=${window}`);
      expect(table.window).toBe(window);
      expect(table.data.map(({ window: _w, ...row }: Json) => row)).toEqual(
        oneHour.data.map(({ window: _w, ...row }: Json) => row),
      );
    }
  });

  it('reads the same table through the SDK', async () => {
    const client = createClient({ baseURL: stack.apiUrl, apiKey: ADMIN_KEY });
    const table = await client.stats({ window: '1h', histogram: true, tenant: 'globex' });
    expect(table).toEqual(await stats(ADMIN_KEY, '?window=1h&histogram=true&tenant=globex'));
    expect(table.tenant).toBe('globex');
    expect(table.data[0]?.delivered.end_to_end.histogram?.length).toBeGreaterThan(0);
  });

  it('refuses an unknown window with a 400 naming it', async () => {
    const response = await fetch(`${stack.apiUrl}/v1/stats?window=90d`, { headers: auth(ACME_KEY) });
    expect(response.status).toBe(400);
    expect(((await response.json()) as Json).error).toMatchObject({
      code: 'invalid_parameter',
      param: 'window',
    });
  });
});

describe('STATS_ENABLED=false on the worker', () => {
  let quiet: Stack;
  beforeAll(async () => {
    quiet = await startStack({ workerEnv: { STATS_ENABLED: 'false' } });
  }, 60_000);
  afterAll(async () => quiet?.close());

  it('records nothing: the table stays empty while jobs succeed', async () => {
    // Two jobs one after the other: the first one's record would long be written by the second's end.
    for (const prompt of ['one', 'two']) {
      const job = await waitForTerminal(quiet.apiUrl, (await submitJob(quiet.apiUrl, { prompt })).id);
      expect(job.status).toBe('succeeded');
    }
    const table = (await (await fetch(`${quiet.apiUrl}/v1/stats?window=1h`)).json()) as Json;
    expect(table.data).toEqual([]);
  });
});
