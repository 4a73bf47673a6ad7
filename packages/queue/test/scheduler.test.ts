import type { Priority } from '@fluxq/core';
import { redisForTests, type TestRedis } from '@fluxq/testing';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createGrantWaiter,
  createScheduler,
  type Scheduler,
  schedulerKeys,
  type Ticket,
} from '../src/index.js';

let server: TestRedis;
let redis: Redis;

beforeAll(async () => {
  server = await redisForTests();
  redis = new Redis(server.url, { maxRetriesPerRequest: null });
});

afterAll(async () => {
  await redis?.quit();
  await server?.stop();
});

beforeEach(async () => {
  await redis.flushall();
});

let seq = 0;
/** `count` new-job tickets of `tenant` (handed to the dispatcher on their grant, as the API admits them). */
function jobs(
  tenant: string,
  count: number,
  priority: Priority = 'bulk',
  extra: Partial<Ticket> = {},
): Ticket[] {
  return Array.from({ length: count }, () => {
    const jobId = `job_${tenant}_${++seq}`;
    return {
      lease: jobId,
      jobId,
      tenant,
      priority,
      kind: 'job' as const,
      dispatch: true,
      ...extra,
    };
  });
}

/** Grants every waiting ticket one slot at a time (limit 1) and returns the order they got it. */
async function drainOrder(scheduler: Scheduler, running: boolean): Promise<string[]> {
  const order: string[] = [];
  let granted = await scheduler.grant();
  for (;;) {
    const ids = granted.granted;
    if (ids.length === 0) return order;
    order.push(...ids);
    const tenant = (id: string) => id.split('_')[1]!;
    granted = await scheduler.release(
      ids,
      running ? ids.map((jobId) => ({ tenant: tenant(jobId), jobId })) : [],
    );
  }
}

const closed = (limit: number, now?: () => number) =>
  createScheduler(redis, { limit, ...(now ? { now } : {}) });

describe('the fal-capacity scheduler', () => {
  it('grants by class first, then FIFO within a tenant', async () => {
    const waitOnly = closed(0);
    const bulk = jobs('acme', 3, 'bulk');
    const normal = jobs('globex', 2, 'default');
    const urgent = jobs('initech', 2, 'interactive');
    await waitOnly.admit([...bulk, ...normal, ...urgent]);
    expect(await drainOrder(closed(1), true)).toEqual([...urgent, ...normal, ...bulk].map((t) => t.jobId));
  });

  it('takes tenants of a class by deficit round-robin with their weights', async () => {
    const waitOnly = closed(0);
    const a = jobs('a', 8, 'bulk', { weight: 3 });
    const b = jobs('b', 4, 'bulk', { weight: 1 });
    await waitOnly.admit([...a, ...b]);
    const order = await drainOrder(closed(1), true);
    expect(order.map((id) => id.split('_')[1]).join('')).toBe('aaabaaabaabb');
    // FIFO within each tenant.
    expect(order.filter((id) => id.includes('_a_'))).toEqual(a.map((t) => t.jobId));
  });

  it('puts a started job’s tickets ahead of its tenant’s first attempts', async () => {
    const waitOnly = closed(0);
    const fresh = jobs('acme', 2);
    await waitOnly.admit(fresh);
    const retry: Ticket = {
      lease: 'job_acme_r',
      jobId: 'job_acme_r',
      tenant: 'acme',
      priority: 'bulk',
      kind: 'job',
      front: true,
    };
    await waitOnly.admit([retry]);
    expect(await drainOrder(closed(1), true)).toEqual(['job_acme_r', ...fresh.map((t) => t.jobId)]);
  });

  it('enforces max_running_jobs at the grant and hands the slot to another tenant meanwhile', async () => {
    const scheduler = closed(5);
    const a = jobs('a', 5, 'bulk', { maxRunning: 2 });
    const b = jobs('b', 5, 'bulk');
    const first = await scheduler.admit([...a, ...b]);
    const ids = first.granted;
    expect(ids.filter((id) => id.includes('_a_'))).toHaveLength(2);
    expect(ids).toHaveLength(5);
    expect(await scheduler.running('a')).toBe(2);
    // A slot freed by b goes to b while a is at its limit ...
    const next = await scheduler.release([ids.find((id) => id.includes('_b_'))!]);
    expect(next.granted).toEqual([b[3]!.jobId]);
    // ... and a's next job goes as soon as one of a's jobs ends (slot and running lease freed).
    const doneA = ids.find((id) => id.includes('_a_'))!;
    const after = await scheduler.release([doneA], [{ tenant: 'a', jobId: doneA }]);
    expect(after.granted).toEqual([a[2]!.jobId]);
  });

  it('takes an expired lease back and grants its slot', async () => {
    let now = 1_000_000;
    const scheduler = createScheduler(redis, { limit: 1, slotLeaseMs: 30_000, now: () => now });
    const [held, next] = jobs('acme', 2);
    const first = await scheduler.admit([held!, next!]);
    expect(first.granted).toEqual([held!.jobId]);
    now += 29_000;
    expect((await scheduler.grant()).granted).toEqual([]);
    expect(await scheduler.renew([held!.lease])).toEqual([]);
    now += 29_000;
    expect((await scheduler.grant()).granted).toEqual([]);
    now += 31_000; // the holder died: nobody renewed
    expect((await scheduler.grant()).granted).toEqual([next!.jobId]);
    expect(await scheduler.renew([held!.lease])).toEqual([held!.lease]);
  });

  it('never grants a canceled ticket, and drops a tenant with nothing left from the ring', async () => {
    const waitOnly = closed(0);
    const [one, two, three] = jobs('acme', 3);
    const other = jobs('globex', 1);
    await waitOnly.admit([one!, two!, three!, ...other]);
    expect((await waitOnly.cancel([two!.lease, 'not-there'])).removed).toBe(1);
    expect((await waitOnly.cancel(other.map((t) => t.lease))).removed).toBe(1);
    expect(await redis.lrange(schedulerKeys.ring('bulk'), 0, -1)).toEqual(['acme']);
    expect(await drainOrder(closed(1), false)).toEqual([one!.jobId, three!.jobId]);
    expect(await waitOnly.waiting()).toBe(0);
    expect(await redis.hlen(schedulerKeys.tickets)).toBe(0);
  });

  it('admits a ticket once, however often it is sent', async () => {
    const waitOnly = closed(0);
    const [t] = jobs('acme', 1);
    expect((await waitOnly.admit([t!])).admitted).toBe(1);
    expect((await waitOnly.admit([t!])).admitted).toBe(0);
    expect(await waitOnly.waiting()).toBe(1);
  });

  it('never exceeds the limit with grants and releases racing from several connections', async () => {
    const limit = 4;
    const conns = Array.from({ length: 5 }, () => new Redis(server.url, { maxRetriesPerRequest: null }));
    const sampler = new Redis(server.url);
    try {
      const schedulers = conns.map((c) => createScheduler(c, { limit }));
      const granted: string[] = [];
      let sampling = true;
      let peak = 0;
      const sampling$ = (async () => {
        while (sampling) peak = Math.max(peak, await sampler.zcard(schedulerKeys.slots));
      })();
      await Promise.all(
        schedulers.map(async (scheduler, i) => {
          let held = (await scheduler.admit(jobs(`t${i}`, 40))).granted;
          granted.push(...held);
          // Each connection frees what it holds and takes what that grants, until all 200 went.
          while (granted.length < 200) {
            const next = held.length > 0 ? await scheduler.release(held) : await scheduler.grant();
            held = next.granted;
            granted.push(...held);
          }
        }),
      );
      sampling = false;
      await sampling$;
      expect(peak).toBe(limit);
      expect(new Set(granted).size).toBe(granted.length);
      expect(granted.length).toBe(200);
    } finally {
      await Promise.all([...conns, sampler].map((c) => c.quit()));
    }
  });

  it('wakes a waiting worker through pub/sub when a slot frees, without polling', async () => {
    const scheduler = closed(1);
    const subscriber = new Redis(server.url);
    const waiter = createGrantWaiter(subscriber, scheduler, { recheckMs: 3_600_000 });
    try {
      await waiter.ready();
      const [busy] = jobs('acme', 1);
      await scheduler.admit([busy!]);
      const hedge: Ticket = {
        lease: 'job_x:h1',
        jobId: 'job_x',
        tenant: 'globex',
        priority: 'interactive',
        kind: 'extra',
      };
      expect((await scheduler.admit([hedge])).woken).toEqual([]);
      let woke = false;
      const waiting = waiter.wait(hedge.lease).then(() => {
        woke = true;
      });
      await new Promise((resolve) => setImmediate(resolve));
      expect(woke).toBe(false);
      const freed = await scheduler.release([busy!.lease]);
      expect(freed.woken).toEqual([hedge.lease]);
      await waiting;
      expect(await scheduler.holds(hedge.lease)).toBe(true);
      // An aborted wait rejects with its reason.
      const stop = new AbortController();
      const abandoned = waiter.wait('job_y:h1', stop.signal);
      stop.abort(new Error('gave up'));
      await expect(abandoned).rejects.toThrow('gave up');
    } finally {
      await waiter.close();
    }
  });

  it('estimates a start from the grant rate once slots have been granted', async () => {
    const scheduler = closed(2);
    const list = jobs('acme', 6);
    const first = await scheduler.admit(list);
    await scheduler.release(first.granted);
    const place = await scheduler.place(list[5]!.lease);
    expect(place?.position).toBe(1);
    expect(place!.grantsPerSecond).toBeGreaterThan(0);
    expect(place!.estimatedStartMs).toBeGreaterThan(Date.now());
    expect(await scheduler.place(list[0]!.lease)).toBeNull();
  });
});

/**
 * Grants `grantedFirst` slots one at a time (running leases kept), reads every waiting ticket's
 * place, then grants the rest one slot at a time: the places and the order the rest got a slot.
 */
async function placesThenGrantOrder(waitOnly: Scheduler, grantedFirst: number) {
  const one = closed(1);
  let granted = await one.grant();
  for (let i = 0; i < grantedFirst; i++) granted = await one.release(granted.granted);
  const places = new Map<string, number>();
  for (const id of await redis.hkeys(schedulerKeys.tickets))
    places.set(id, (await waitOnly.place(id))!.position);
  const rest = await drainOrder({ ...one, grant: async () => one.release(granted.granted) }, false);
  return { places, rest };
}

describe('queue_position', () => {
  it('counts exactly the tickets granted before it (property)', async () => {
    const tenantArb = fc.record({
      weight: fc.integer({ min: 1, max: 4 }),
      counts: fc.tuple(fc.nat({ max: 6 }), fc.nat({ max: 6 }), fc.nat({ max: 12 })),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(tenantArb, { minLength: 1, maxLength: 4 }),
        fc.nat({ max: 10 }),
        fc.array(fc.nat({ max: 5 }), { maxLength: 8 }),
        async (tenants, grantedFirst, admitOrder) => {
          await redis.flushall();
          const waitOnly = closed(0);
          const classes: Priority[] = ['interactive', 'default', 'bulk'];
          // Interleave admissions of tenants so ring order differs from tenant order.
          const queues = tenants.flatMap((t, i) =>
            classes.map((cls, c) => jobs(`t${i}`, t.counts[c]!, cls, { weight: t.weight })),
          );
          let k = 0;
          for (;;) {
            const open = queues.filter((q) => q.length > 0);
            if (open.length === 0) break;
            const pick = open[(admitOrder[k++ % Math.max(1, admitOrder.length)] ?? 0) % open.length]!;
            await waitOnly.admit([pick.shift()!]);
          }
          // Some grants first, so heads are mid-turn with deficits left.
          const { places, rest } = await placesThenGrantOrder(waitOnly, grantedFirst);
          expect(rest.length).toBe(places.size);
          expect(rest.map((id) => places.get(id))).toEqual(rest.map((_, index) => index));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('counts a tenant at its max_running_jobs only as far as its free leases reach (property)', async () => {
    const tenantArb = fc.record({
      weight: fc.integer({ min: 1, max: 3 }),
      maxRunning: fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }),
      counts: fc.tuple(fc.nat({ max: 4 }), fc.nat({ max: 8 })),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(tenantArb, { minLength: 1, maxLength: 4 }),
        fc.nat({ max: 6 }),
        async (tenants, grantedFirst) => {
          await redis.flushall();
          const waitOnly = closed(0);
          const classes: Priority[] = ['default', 'bulk'];
          for (const [c, cls] of classes.entries()) {
            for (const [i, t] of tenants.entries()) {
              const extra = { weight: t.weight, ...(t.maxRunning ? { maxRunning: t.maxRunning } : {}) };
              await waitOnly.admit(jobs(`t${i}`, t.counts[c]!, cls, extra));
            }
          }
          // Jobs granted first keep their running leases (held now: the limit binds on them), and
          // no running lease ends while slots free one by one: tenants at their limit stay passed over.
          const { places, rest } = await placesThenGrantOrder(waitOnly, grantedFirst);
          expect(rest.map((id) => places.get(id))).toEqual(rest.map((_, index) => index));
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('a ticket as stored', () => {
  it("keeps a new job's ticket compact: no job id, wait member or payload repeated in it", async () => {
    const scheduler = createScheduler(redis, { limit: 0 });
    const [ticket] = jobs('acme', 1, 'bulk', { maxRunning: 3 });
    await scheduler.admit([ticket!]);
    const stored = (await redis.hget(schedulerKeys.tickets, ticket!.lease))!;
    expect(stored).not.toContain(ticket!.jobId);
    expect(JSON.parse(stored)).toMatchObject({ t: 'acme', c: 3, k: 'job', r: 3, p: 1 });
    // Granted, it is handed over with everything the ticket held.
    const granted = await createScheduler(redis, { limit: 1 }).grant();
    expect(granted.dispatched).toEqual([
      { data: { jobId: ticket!.jobId, tenant: 'acme', maxRunning: 3 }, priority: 'bulk' },
    ]);
  });

  it('grants and cancels tickets admitted before the compact form (wait member and JSON payload stored)', async () => {
    const old = (id: string, s: string) => {
      const member = `acme\0${s}\0${id}`;
      const payload = JSON.stringify({ data: { jobId: id, tenant: 'acme' }, priority: 'default' });
      return redis
        .multi()
        .hset(
          schedulerKeys.tickets,
          id,
          JSON.stringify({ j: id, t: 'acme', c: 2, m: member, k: 'job', p: payload }),
        )
        .zadd(schedulerKeys.wait('default'), 0, member)
        .exec();
    };
    await old('job_old_1', 'b000000000000001');
    await old('job_old_2', 'b000000000000002');
    await redis.rpush(schedulerKeys.ring('default'), 'acme');
    const scheduler = createScheduler(redis, { limit: 1 });
    expect((await scheduler.place('job_old_2'))?.position).toBe(1);
    const granted = await scheduler.grant();
    expect(granted.granted).toEqual(['job_old_1']);
    // The granted job, and the next one prefetched ahead of its grant, each with its stored payload.
    expect(granted.dispatched).toEqual([
      { data: { jobId: 'job_old_1', tenant: 'acme' }, priority: 'default' },
      { data: { jobId: 'job_old_2', tenant: 'acme' }, priority: 'default' },
    ]);
    expect((await scheduler.cancel(['job_old_2'])).removed).toBe(1);
    expect(await scheduler.waiting()).toBe(0);
    expect(await scheduler.stranded(-1)).toEqual(expect.arrayContaining(granted.dispatched));
  });
});
