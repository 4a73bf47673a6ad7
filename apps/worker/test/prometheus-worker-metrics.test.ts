import {
  createGrantDispatcher,
  createGrantWaiter,
  createImagesQueue,
  createScheduler,
  type GrantWaiter,
  type ImagesQueue,
} from '@fluxq/queue';
import { createCircuitBreaker } from '@fluxq/resilience';
import { createLogger } from '@fluxq/runtime';
import { PromScrape, type RedisServer, startRedisServer } from '@fluxq/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFalCapacity } from '../src/images/fal-capacity.js';
import { createPrometheusWorkerMetrics } from '../src/metrics/prometheus-worker-metrics.js';

/**
 * The worker's registry on real Redis-backed parts (breaker, the scheduler's fal slots as
 * build-resilience.ts wires them): label values stay in their closed sets, tenants appear only
 * when asked for, and two workers in one process keep registries of their own.
 */
describe('worker Prometheus metrics', () => {
  let server: RedisServer;
  let redis: Redis;
  let subscriber: Redis;
  let waiter: GrantWaiter;
  let imagesQueue: ImagesQueue;
  const logger = createLogger({ name: 'metrics-test', level: 'silent' });
  beforeAll(async () => {
    server = await startRedisServer();
    redis = new Redis(server.url, { maxRetriesPerRequest: null });
    subscriber = new Redis(server.url, { maxRetriesPerRequest: null });
    waiter = createGrantWaiter(subscriber, createScheduler(redis, { limit: 3 }));
    await waiter.ready();
    imagesQueue = createImagesQueue(redis);
  });
  afterAll(async () => {
    await waiter?.close();
    await imagesQueue?.close();
    subscriber?.disconnect();
    redis?.disconnect();
    await server?.stop();
  });

  const build = (tenantLabels: boolean, prefix: string) => {
    const breaker = createCircuitBreaker(redis, { prefix });
    // One process's fal capacity, as the worker builds it: every slot comes from the scheduler.
    const scheduler = createScheduler(redis, { limit: 3 });
    const fal = createFalCapacity(scheduler, waiter, createGrantDispatcher(scheduler, imagesQueue), {
      renewEveryMs: 10_000,
      logger,
    });
    const slots = fal.slots;
    const built = createPrometheusWorkerMetrics({
      tenantLabels,
      sources: { slotsInUse: () => slots.inUse(), slotsLimit: 3, slotsHeld: () => slots.held(), breaker },
    });
    return { ...built, breaker, slots };
  };
  const job = { model: 'flux.2-dev-turbo', operation: 'edit', tenant: 'acme' } as const;

  it('reports a value outside its closed set as `other`, and no tenant unless asked', async () => {
    const { metrics, registry, slots } = build(false, '{m1}:');
    metrics.jobFinished(job, { status: 'failed', errorCode: 'provider_error', totalMs: 1_500 });
    // A value no code path should send: a bug must not become a series per value.
    metrics.jobFinished(
      { ...job, model: 'job_0123456789abcdef' as never },
      { status: 'succeeded', totalMs: 10 },
    );
    metrics.retryScheduled(job, { errorCode: 'provider_error', reason: 'something new' });
    const scrape = new PromScrape(await registry.metrics());
    expect(
      scrape.sum('fluxq_jobs_finished_total', {
        model: 'flux.2-dev-turbo',
        status: 'failed',
        error_code: 'provider_error',
      }),
    ).toBe(1);
    expect(
      scrape.sum('fluxq_jobs_finished_total', { model: 'other', status: 'succeeded', error_code: 'none' }),
    ).toBe(1);
    expect(scrape.sum('fluxq_job_retries_total', { reason: 'other' })).toBe(1);
    expect(scrape.observedSum('fluxq_job_duration_seconds', { outcome: 'failed' })).toBeCloseTo(1.5);
    expect([...scrape.labelValues()].some(({ label }) => label === 'tenant')).toBe(false);
    slots.close();
  });

  it('adds the tenant label with tenantLabels', async () => {
    const { metrics, registry, slots } = build(true, '{m2}:');
    metrics.jobFinished(job, { status: 'succeeded', totalMs: 100 });
    const scrape = new PromScrape(await registry.metrics());
    expect(scrape.sum('fluxq_jobs_finished_total', { tenant: 'acme' })).toBe(1);
    expect(scrape.sum('fluxq_job_duration_seconds', { tenant: 'acme' })).toBe(1);
    slots.close();
  });

  it('reads slots and breaker state from Redis at scrape; two registries in one process stay apart', async () => {
    const a = build(false, '{m3}:');
    const b = build(false, '{m3}:');
    await a.slots.acquire('lease-1');
    await b.breaker.forceOpen('flux.2-dev-flash', 60_000, 'test');
    a.metrics.falSubmitted(job, 'hedge');
    const [fromA, fromB] = [
      new PromScrape(await a.registry.metrics()),
      new PromScrape(await b.registry.metrics()),
    ];
    // Global figures (Redis) are the same from both; per-process ones are each one's own.
    for (const scrape of [fromA, fromB]) {
      expect(scrape.sum('fluxq_fal_slots_in_use')).toBe(1);
      expect(scrape.sum('fluxq_fal_slots_limit')).toBe(3);
      expect(scrape.sum('fluxq_breaker_state', { model: 'flux.2-dev-flash', state: 'open' })).toBe(1);
      expect(scrape.sum('fluxq_breaker_state', { model: 'flux.2-dev-turbo', state: 'closed' })).toBe(1);
    }
    expect(fromA.sum('fluxq_fal_slots_held')).toBe(1);
    expect(fromB.sum('fluxq_fal_slots_held')).toBe(0);
    expect(fromA.sum('fluxq_fal_submits_total', { kind: 'hedge' })).toBe(1);
    expect(fromB.sum('fluxq_fal_submits_total')).toBe(0);
    await a.slots.release('lease-1');
    a.slots.close();
    b.slots.close();
  });
});
