import type { AttemptLogEntry, JobRecord } from '@fluxq/core';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { createProviderStats, type JobStatsFacts, jobStatsFacts } from '../src/index.js';
import { useRedisFixture } from './redis-fixture.js';

const fx = useRedisFixture('provider-stats', 1, Date.UTC(2026, 0, 2, 3, 4, 5));
const stats = () => createProviderStats(fx.redis, { prefix: fx.prefix, now: () => fx.clock });

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

function facts(overrides: Partial<JobStatsFacts> = {}): JobStatsFacts {
  return {
    tenant: 'acme',
    model: 'flux.2-dev-turbo',
    operation: 'edit',
    status: 'succeeded',
    totalMs: 2_000,
    retried: false,
    hedged: false,
    submits: 1,
    images: 1,
    costMicroUsd: 24_000,
    requests: [{ ended: true, completed: true, generationMs: 1_500, firstByteMs: 200 }],
    ...overrides,
  };
}

describe('provider stats', () => {
  it('sums jobs into provider and delivered figures with their sample counts', async () => {
    const s = stats();
    await s.record(facts());
    await s.record(facts({ totalMs: 4_000, hedged: true, submits: 2, images: 3, costMicroUsd: 72_000 }));
    await s.record(
      facts({
        status: 'failed',
        retried: true,
        submits: 2,
        images: 0,
        costMicroUsd: 0,
        requests: [
          { ended: true, completed: false, firstByteMs: 300 },
          { ended: false, completed: false },
        ],
      }),
    );
    const table = await s.read({ window: '24h', tenant: null });
    expect(table.rows).toHaveLength(1);
    const [row] = table.rows;
    expect(row).toMatchObject({
      model: 'flux.2-dev-turbo',
      operation: 'edit',
      provider: {
        requests: 3,
        success_rate: { value: 2 / 3, samples: 3 },
        generation: { samples: 2 },
        time_to_first_byte: { samples: 3 },
      },
      delivered: {
        jobs: 3,
        succeeded: 2,
        failed: 1,
        success_rate: { value: 2 / 3, samples: 3 },
        end_to_end: { samples: 2 },
        hedge_rate: { value: 1 / 3, samples: 3 },
        retry_rate: { value: 1 / 3, samples: 3 },
        fal_submits_per_job: { value: 5 / 2, samples: 2 },
        cost_per_image_usd: { value: 0.024, samples: 4 },
      },
    });
    // One bucket (10 %) of resolution.
    expect(Math.abs(row!.provider.generation.p50_ms! / 1_500 - 1)).toBeLessThanOrEqual(0.1);
    expect(row!.delivered.end_to_end.p99_ms).toBeGreaterThan(3_600);
    expect(row!.delivered.end_to_end.histogram).toBeUndefined();
  });

  it('returns the histogram buckets when asked', async () => {
    const s = stats();
    await s.record(facts({ totalMs: 1_000 }));
    await s.record(facts({ totalMs: 1_000 }));
    await s.record(facts({ totalMs: 9_000 }));
    const [row] = (await s.read({ window: '1h', tenant: null, histogram: true })).rows;
    const buckets = row!.delivered.end_to_end.histogram!;
    expect(buckets.map((b) => b.count)).toEqual([2, 1]);
    expect(buckets[0]!.le_ms).toBeGreaterThanOrEqual(1_000);
    expect(buckets[0]!.le_ms).toBeLessThan(1_100);
  });

  it('keeps each tenant apart in the delivered columns; the provider columns are everyone’s', async () => {
    const s = stats();
    await s.record(facts({ tenant: 'acme' }));
    await s.record(facts({ tenant: 'globex' }));
    await s.record(facts({ tenant: 'globex' }));
    const acme = (await s.read({ window: '24h', tenant: 'acme' })).rows[0]!;
    const globex = (await s.read({ window: '24h', tenant: 'globex' })).rows[0]!;
    const all = (await s.read({ window: '24h', tenant: null })).rows[0]!;
    expect([acme.delivered.jobs, globex.delivered.jobs, all.delivered.jobs]).toEqual([1, 2, 3]);
    expect([acme.provider.requests, globex.provider.requests]).toEqual([3, 3]);
    expect((await s.read({ window: '24h', tenant: 'initech' })).rows[0]!.delivered.jobs).toBe(0);
  });

  it('lets a job fall out of each window once the window has passed it', async () => {
    const s = stats();
    await s.record(facts({ operation: 'generate' }));
    const jobsIn = async (window: '1h' | '24h' | '7d' | '30d') =>
      (await s.read({ window, tenant: null })).rows[0]?.delivered.jobs ?? 0;
    const windows = ['1h', '24h', '7d', '30d'] as const;

    fx.clock += 30 * MINUTE;
    expect(await Promise.all(windows.map(jobsIn))).toEqual([1, 1, 1, 1]);
    fx.clock += 40 * MINUTE;
    expect(await Promise.all(windows.map(jobsIn))).toEqual([0, 1, 1, 1]);
    fx.clock += DAY;
    expect(await Promise.all(windows.map(jobsIn))).toEqual([0, 0, 1, 1]);
    fx.clock += 7 * DAY;
    expect(await Promise.all(windows.map(jobsIn))).toEqual([0, 0, 0, 1]);
    fx.clock += 30 * DAY;
    expect(await Promise.all(windows.map(jobsIn))).toEqual([0, 0, 0, 0]);
  });

  it('sets an expiry on every key it writes, under the {fluxq} hash tag', async () => {
    await stats().record(facts());
    const keys = await fx.redis.keys(`${fx.prefix}*`);
    expect(keys.length).toBe(9);
    for (const key of keys) {
      expect(key.startsWith('{fluxq}:')).toBe(true);
      expect(await fx.redis.pttl(key)).toBeGreaterThan(0);
    }
  });
});

describe('provider stats gathered in memory (flushEveryMs)', () => {
  /** A timer that never fires during a test: every write below is an explicit flush or close. */
  const gathered = (redis = fx.redis) =>
    createProviderStats(redis, { prefix: fx.prefix, now: () => fx.clock, flushEveryMs: 3_600_000 });
  const hincrbys = async () =>
    Number(/cmdstat_hincrby:calls=(\d+)/.exec(await fx.redis.info('commandstats'))?.[1] ?? 0);
  const jobs = [
    facts(),
    facts({ totalMs: 4_000, hedged: true, submits: 2, images: 3, costMicroUsd: 72_000 }),
    facts({ tenant: 'globex', status: 'failed', retried: true, images: 0, costMicroUsd: 0 }),
  ];

  it('writes nothing until flushed, then the same table as jobs written one by one, one HINCRBY per counter', async () => {
    const s = gathered();
    for (const job of jobs) await s.record(job);
    expect((await s.read({ window: '24h', tenant: null })).rows).toEqual([]);
    const before = await hincrbys();
    await s.flush();
    const sent = (await hincrbys()) - before;
    const table = await s.read({ window: '7d', tenant: null, histogram: true });
    const globex = await s.read({ window: '7d', tenant: 'globex' });

    fx.prefix = `${fx.prefix}one-by-one:`;
    const direct = stats();
    const single = await hincrbys();
    await direct.record(jobs[0]!);
    const perJob = (await hincrbys()) - single;
    for (const job of jobs.slice(1)) await direct.record(job);
    expect(await direct.read({ window: '7d', tenant: null, histogram: true })).toEqual(table);
    expect(await direct.read({ window: '7d', tenant: 'globex' })).toEqual(globex);
    // Three jobs, mostly on the same counters: fewer commands than two jobs written one by one.
    expect(sent).toBeLessThan(2 * perJob);
  });

  it('counts a job in the bucket of the time it was recorded, however late the flush', async () => {
    const s = gathered();
    await s.record(facts());
    fx.clock += 2 * HOUR;
    await s.flush();
    expect((await s.read({ window: '1h', tenant: null })).rows).toEqual([]);
    expect((await s.read({ window: '24h', tenant: null })).rows[0]!.delivered.jobs).toBe(1);
  });

  it('close writes what is left', async () => {
    const s = gathered();
    await s.record(facts());
    await s.close();
    expect((await s.read({ window: '1h', tenant: null })).rows[0]!.delivered.jobs).toBe(1);
  });

  it('keeps the jobs of a flush Redis refused for the next one, each counted once', async () => {
    const url = `redis://127.0.0.1:${(fx.redis.options as { port: number }).port}`;
    const flaky = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 0, lazyConnect: true });
    await flaky.connect();
    try {
      const s = gathered(flaky);
      await s.record(facts());
      const ended = new Promise((resolve) => flaky.once('end', resolve));
      flaky.disconnect();
      await ended;
      await expect(s.flush()).rejects.toThrow();
      await s.record(facts());
      await flaky.connect();
      await s.flush();
      expect((await s.read({ window: '1h', tenant: null })).rows[0]!.delivered.jobs).toBe(2);
    } finally {
      flaky.disconnect();
    }
  });
});

describe('job stats facts', () => {
  const attempt = (overrides: Partial<AttemptLogEntry>): AttemptLogEntry => ({
    attempt: 1,
    counted: true,
    started_ms: 1_000,
    ended_ms: 5_000,
    outcome: 'succeeded',
    error_code: null,
    requests: [],
    hedges: [],
    ...overrides,
  });

  it('counts a request resumed by a later attempt once, as it finally ended', () => {
    const record = {
      tenant: 'acme',
      model: 'flux.2-dev',
      operation: 'generate',
      created_ms: 0,
      output: { images: [{}, {}] },
      cost: { megapixels: 2, usd: 0.05 },
      attempt_log: [
        attempt({
          outcome: 'retried',
          requests: [
            {
              request_id: 'a',
              chunk: 0,
              hedge: false,
              submitted_ms: 1_000,
              running_ms: null,
              ended_ms: 3_000,
              outcome: 'left',
            },
          ],
          hedges: [{ chunk: 0, due_ms: 2_000, decision: 'budget_spent' }],
        }),
        attempt({
          attempt: 2,
          started_ms: 4_000,
          requests: [
            {
              request_id: 'a',
              chunk: 0,
              hedge: false,
              submitted_ms: 1_000,
              running_ms: 1_400,
              ended_ms: 6_000,
              outcome: 'succeeded',
            },
            {
              request_id: 'b',
              chunk: 1,
              hedge: true,
              submitted_ms: 4_500,
              running_ms: null,
              ended_ms: 5_000,
              outcome: 'canceled',
            },
          ],
          hedges: [{ chunk: 1, due_ms: 4_500, decision: 'sent' }],
        }),
      ],
    } as unknown as JobRecord;
    expect(jobStatsFacts(record, 'succeeded', 7_000)).toEqual({
      tenant: 'acme',
      model: 'flux.2-dev',
      operation: 'generate',
      status: 'succeeded',
      totalMs: 7_000,
      retried: true,
      hedged: true,
      submits: 2,
      images: 2,
      costMicroUsd: 50_000,
      requests: [
        { ended: true, completed: true, generationMs: 5_000, firstByteMs: 400 },
        { ended: false, completed: false },
      ],
    });
  });
});
