import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { type CircuitBreakerOptions, createCircuitBreaker } from '../src/index.js';
import { useRedisFixture } from './redis-fixture.js';

const model = 'flux.2-dev-turbo';
const notProbe = { probe: false };

const fx = useRedisFixture('breaker');

/** A breaker on `connection` with the defaults, the test clock and this test's key prefix. */
const breakerOn = (connection: Redis, options: CircuitBreakerOptions = {}) =>
  createCircuitBreaker(connection, { prefix: fx.prefix, now: () => fx.clock, ...options });
const breaker = (options: CircuitBreakerOptions = {}) => breakerOn(fx.redis, options);

type Breaker = ReturnType<typeof breaker>;

/** Records `failures` failures and `successes` successes, interleaved as `pattern` says ('s'/'f'). */
async function outcomes(b: Breaker, pattern: string, key = model) {
  for (const c of pattern) {
    if (c === 's') await b.recordSuccess(key, notProbe);
    else await b.recordFailure(key, notProbe);
  }
}

/** Opens the breaker through failures and moves the clock to the end of the open period. */
async function halfOpen(b: Breaker) {
  await outcomes(b, 'ffffffffff');
  const { openUntilMs } = await b.state(model);
  fx.clock = openUntilMs ?? fx.clock;
}

describe('circuit breaker', () => {
  it('reports each state change once, to the process whose call made it (metrics)', async () => {
    const heard: string[] = [];
    const b = breaker({
      minRequests: 10,
      streakToOpen: 0,
      onTransition: (t) => heard.push(`${t.key} ${t.from}>${t.to}`),
    });
    await outcomes(b, 'fffffffff');
    expect(heard).toEqual([]);
    await outcomes(b, 'ff'); // the 10th opens it; the 11th, while open, changes nothing
    expect(heard).toEqual([`${model} closed>open`]);
    await halfOpen(b);
    expect(await b.acquire(model)).toEqual({ allowed: true, probe: true });
    await b.recordFailure(model, { probe: true });
    const { openUntilMs } = await b.state(model);
    fx.clock = openUntilMs ?? fx.clock;
    await b.acquire(model);
    await b.recordSuccess(model, { probe: true });
    await b.forceOpen(model, 1_000, 'auth');
    await b.forceOpen(model, 1_000, 'auth'); // already open: no change
    expect(heard).toEqual([
      `${model} closed>open`,
      `${model} open>half-open`,
      `${model} half-open>open`,
      `${model} open>half-open`,
      `${model} half-open>closed`,
      `${model} closed>open`,
    ]);
  });

  describe('when closed', () => {
    it('lets requests through', async () => {
      expect(await breaker().acquire(model)).toEqual({ allowed: true, probe: false });
      expect(await breaker().state(model)).toEqual({ state: 'closed', failures: 0, successes: 0, streak: 0 });
    });

    it('stays closed under mixed traffic below the failure ratio', async () => {
      const b = breaker();
      await outcomes(b, 'ssf'.repeat(20));
      expect(await b.state(model)).toEqual({ state: 'closed', failures: 20, successes: 40, streak: 1 });
      expect((await b.acquire(model)).allowed).toBe(true);
    });

    it('stays closed with fewer than minRequests outcomes, however many fail (streak rule off)', async () => {
      const b = breaker({ minRequests: 10, streakToOpen: 0 });
      await outcomes(b, 'fffffffff');
      expect((await b.state(model)).state).toBe('closed');
    });

    it('opens when failures reach the ratio with minRequests outcomes', async () => {
      const b = breaker({ minRequests: 10, failureRatio: 0.5, openMs: 5_000, streakToOpen: 0 });
      await outcomes(b, 'sssss');
      await outcomes(b, 'ffff');
      expect((await b.state(model)).state).toBe('closed');
      expect(await b.recordFailure(model, notProbe)).toBe('open');
      expect(await b.state(model)).toEqual({
        state: 'open',
        openUntilMs: fx.clock + 5_000,
        reason: 'failure ratio',
        failures: 0,
        successes: 0,
        streak: 0,
      });
    });

    it('forgets outcomes older than the window', async () => {
      const b = breaker({ windowMs: 30_000, streakToOpen: 0 });
      await outcomes(b, 'fffffffff');
      fx.clock += 30_000;
      await outcomes(b, 'f');
      expect(await b.state(model)).toMatchObject({ state: 'closed', failures: 1 });
    });

    // Issue 11: after a busy period the window holds hundreds of successes, so the ratio
    // needs hundreds of failures; the streak sees the outage within a few requests.
    describe('when different jobs fail in a row', () => {
      const failJob = (b: Breaker, job: string) => b.recordFailure(model, { probe: false, source: job });

      it('opens after streakToOpen jobs fail with no success between, whatever the window holds', async () => {
        const b = breaker({ streakToOpen: 5, openMs: 5_000 });
        await outcomes(b, 's'.repeat(300));
        for (const job of ['a', 'b', 'c', 'd']) expect(await failJob(b, job)).toBe('closed');
        expect(await b.state(model)).toMatchObject({ state: 'closed', streak: 4, successes: 300 });
        expect(await failJob(b, 'e')).toBe('open');
        expect(await b.state(model)).toMatchObject({ state: 'open', reason: 'consecutive failures' });
      });

      it("does not count one job's repeated failures as a streak", async () => {
        const b = breaker({ streakToOpen: 3 });
        await outcomes(b, 's'.repeat(50));
        for (let i = 0; i < 10; i++) expect(await failJob(b, 'same-job')).toBe('closed');
        expect((await b.state(model)).streak).toBe(1);
      });

      it('starts the streak again after any success', async () => {
        const b = breaker({ streakToOpen: 3 });
        await outcomes(b, 's'.repeat(50));
        await failJob(b, 'a');
        await failJob(b, 'b');
        await b.recordSuccess(model, notProbe);
        expect((await b.state(model)).streak).toBe(0);
        expect(await failJob(b, 'c')).toBe('closed');
        expect(await failJob(b, 'd')).toBe('closed');
        expect(await failJob(b, 'e')).toBe('open');
      });
    });

    it('keeps keys apart', async () => {
      const b = breaker();
      await outcomes(b, 'ffffffffff');
      expect((await b.state(model)).state).toBe('open');
      expect(await b.acquire('flux.2-dev')).toEqual({ allowed: true, probe: false });
    });
  });

  describe('when open', () => {
    it('refuses requests until the open period ends', async () => {
      const b = breaker({ openMs: 5_000 });
      await outcomes(b, 'ffffffffff');
      const openUntil = fx.clock + 5_000;
      expect(await b.acquire(model)).toEqual({ allowed: false, state: 'open', retryAtMs: openUntil });
      fx.clock += 4_999;
      expect(await b.acquire(model)).toEqual({ allowed: false, state: 'open', retryAtMs: openUntil });
    });

    it('ignores outcomes of requests sent before it opened', async () => {
      const b = breaker({ openMs: 5_000 });
      await outcomes(b, 'ffffffffff');
      const before = await b.state(model);
      expect(await b.recordSuccess(model, notProbe)).toBe('open');
      expect(await b.recordFailure(model, notProbe)).toBe('open');
      expect(await b.state(model)).toEqual(before);
    });
  });

  describe('when half-open', () => {
    it('grants exactly one probe among 20 concurrent callers on two connections', async () => {
      const a = breakerOn(fx.redis, { openMs: 5_000, probeLeaseMs: 30_000 });
      const b = breakerOn(fx.other, { openMs: 5_000, probeLeaseMs: 30_000 });
      await halfOpen(a);
      const admissions = await Promise.all(
        Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).acquire(model)),
      );
      expect(admissions.filter((x) => x.allowed)).toEqual([{ allowed: true, probe: true }]);
      // The others are told to come back within the lease (at most one base open period from now).
      for (const refused of admissions.filter((x) => !x.allowed)) {
        expect(refused).toEqual({ allowed: false, state: 'half-open', retryAtMs: fx.clock + 5_000 });
      }
      expect((await a.state(model)).state).toBe('half-open');
    });

    it('grants a new probe when the lease of the last one ran out', async () => {
      const b = breaker({ probeLeaseMs: 30_000 });
      await halfOpen(b);
      expect(await b.acquire(model)).toEqual({ allowed: true, probe: true });
      fx.clock += 29_999;
      expect((await b.acquire(model)).allowed).toBe(false);
      fx.clock += 1;
      expect(await b.acquire(model)).toEqual({ allowed: true, probe: true });
    });

    it('closes on the probe success and forgets the window and the open period', async () => {
      const b = breaker({ openMs: 5_000 });
      await halfOpen(b);
      await b.acquire(model);
      expect(await b.recordSuccess(model, { probe: true })).toBe('closed');
      expect(await b.state(model)).toEqual({ state: 'closed', failures: 0, successes: 0, streak: 0 });
      expect(await b.acquire(model)).toEqual({ allowed: true, probe: false });
      // The next opening starts again from openMs.
      await outcomes(b, 'ffffffffff');
      expect((await b.state(model)).openUntilMs).toBe(fx.clock + 5_000);
    });

    it('closes on a success of a request sent before it opened', async () => {
      const b = breaker();
      await halfOpen(b);
      expect(await b.recordSuccess(model, notProbe)).toBe('closed');
    });

    it('reopens for twice as long on each probe failure, up to maxOpenMs', async () => {
      const b = breaker({ openMs: 5_000, maxOpenMs: 30_000 });
      await halfOpen(b);
      for (const period of [10_000, 20_000, 30_000, 30_000]) {
        expect(await b.acquire(model)).toEqual({ allowed: true, probe: true });
        expect(await b.recordFailure(model, { probe: true })).toBe('open');
        expect(await b.state(model)).toMatchObject({
          state: 'open',
          openUntilMs: fx.clock + period,
          reason: 'probe failed',
        });
        expect(await b.acquire(model)).toEqual({
          allowed: false,
          state: 'open',
          retryAtMs: fx.clock + period,
        });
        fx.clock += period;
      }
    });

    it('does not reopen on a failure of a request sent before it opened', async () => {
      const b = breaker();
      await halfOpen(b);
      await b.acquire(model);
      expect(await b.recordFailure(model, notProbe)).toBe('half-open');
      expect((await b.state(model)).state).toBe('half-open');
    });
  });

  describe('when forced open', () => {
    it('refuses for the given time, then probes', async () => {
      const b = breaker();
      await b.forceOpen(model, 120_000, 'fal rejected our credentials');
      expect(await b.state(model)).toEqual({
        state: 'open',
        openUntilMs: fx.clock + 120_000,
        reason: 'fal rejected our credentials',
        failures: 0,
        successes: 0,
        streak: 0,
      });
      expect(await b.acquire(model)).toEqual({
        allowed: false,
        state: 'open',
        retryAtMs: fx.clock + 120_000,
      });
      fx.clock += 120_000;
      expect(await b.acquire(model)).toEqual({ allowed: true, probe: true });
    });

    it('does not shorten an open period already running', async () => {
      const b = breaker();
      await b.forceOpen(model, 60_000);
      await b.forceOpen(model, 1_000, 'shorter');
      expect(await b.state(model)).toMatchObject({ openUntilMs: fx.clock + 60_000, reason: 'shorter' });
    });

    it('is not closed by a late success of a probe it overtook', async () => {
      const b = breaker();
      await halfOpen(b);
      await b.acquire(model);
      await b.forceOpen(model, 60_000);
      expect(await b.recordSuccess(model, { probe: true })).toBe('open');
      expect((await b.state(model)).state).toBe('open');
    });
  });

  describe('in Redis', () => {
    it('keeps the state in one hash that expires once it no longer matters', async () => {
      const b = breaker({ windowMs: 30_000, maxOpenMs: 60_000, probeLeaseMs: 30_000 });
      await b.forceOpen(model, 10_000);
      const ttl = await fx.redis.pttl(`${fx.prefix}breaker:${model}`);
      expect(ttl).toBeGreaterThan(120_000);
      expect(ttl).toBeLessThanOrEqual(130_000);
      await halfOpen(b);
      await b.recordSuccess(model, { probe: true });
      expect(await fx.redis.exists(`${fx.prefix}breaker:${model}`)).toBe(0);
    });
  });
});
