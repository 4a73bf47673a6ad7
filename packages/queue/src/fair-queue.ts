import type { ImageJobData, Priority } from '@fluxq/core';
import type { Redis } from 'ioredis';
import { enqueueImageJobs, type ImagesQueue } from './images-queue.js';
import { IMAGES_QUEUE, QUEUE_PREFIX, storeKeys } from './names.js';

/**
 * Fairness between tenants in front of the `images` queue (design in the README). Accepted
 * jobs wait in per-tenant lists per priority class; a dispatcher moves them into BullMQ in
 * round-robin order over the tenants, keeping at most `window` jobs waiting there. A
 * tenant's new job therefore waits behind the window and one job per other active tenant
 * per turn, never behind another tenant's whole batch.
 *
 * Keys (all under `{fluxq}`, one slot with the queue's):
 * - `fair:jobs:<class>:<tenant>`: list of JSON `{data, priority}` waiting to be dispatched;
 * - `fair:ring:<class>`: list of tenants with waiting jobs, in turn order; `fair:ringset:<class>` its members;
 * - `fair:transit`: zset of popped job ids → ms, until BullMQ has them (a dispatcher that dies
 *   between the pop and the add leaves them here; `sweep` adds them again).
 */

/** Classes in the order they are served: every interactive tenant before any default one. */
const CLASSES: readonly Priority[] = ['interactive', 'default', 'bulk'];

const k = {
  jobs: (cls: string, tenant: string) => `${QUEUE_PREFIX}:fair:jobs:${cls}:${tenant}`,
  ring: (cls: string) => `${QUEUE_PREFIX}:fair:ring:${cls}`,
  ringSet: (cls: string) => `${QUEUE_PREFIX}:fair:ringset:${cls}`,
  transit: `${QUEUE_PREFIX}:fair:transit`,
  transitData: `${QUEUE_PREFIX}:fair:transit-data`,
  wait: `${QUEUE_PREFIX}:${IMAGES_QUEUE}:wait`,
  prioritized: `${QUEUE_PREFIX}:${IMAGES_QUEUE}:prioritized`,
};

export interface FairEntry {
  data: ImageJobData;
  priority: Priority;
}

// KEYS[1] jobs list, KEYS[2] ring, KEYS[3] ring set; ARGV[1] tenant, ARGV[2..] entries (JSON).
const ADMIT = `
for i = 2, #ARGV do redis.call('RPUSH', KEYS[1], ARGV[i]) end
if redis.call('SADD', KEYS[3], ARGV[1]) == 1 then redis.call('RPUSH', KEYS[2], ARGV[1]) end
return #ARGV - 1
`;

// KEYS[1] wait, KEYS[2] prioritized, KEYS[3] transit, KEYS[4] transit data, then per class its ring,
// ring set and the lists of the tenants at the head of its ring. ARGV[1] window, ARGV[2] now ms, then
// per class the tenant count n and those n tenants (in KEYS order). Pops one job per tenant per turn
// while the window has room. Every key it touches comes in KEYS (Redis Cluster requires it): a tenant
// whose list was not passed (another dispatcher moved the ring meanwhile) goes back and ends the class.
const DISPATCH = `
local room = tonumber(ARGV[1]) - redis.call('LLEN', KEYS[1]) - redis.call('ZCARD', KEYS[2]) - redis.call('ZCARD', KEYS[3])
local popped = {}
local k = 5
local a = 3
while a <= #ARGV do
  local ring = KEYS[k]
  local ringSet = KEYS[k + 1]
  local n = tonumber(ARGV[a])
  local lists = {}
  for i = 1, n do lists[ARGV[a + i]] = KEYS[k + 1 + i] end
  k = k + 2 + n
  a = a + 1 + n
  while room > 0 do
    local tenant = redis.call('LPOP', ring)
    if not tenant then break end
    local listKey = lists[tenant]
    if not listKey then
      redis.call('LPUSH', ring, tenant)
      break
    end
    local entry = redis.call('LPOP', listKey)
    if redis.call('LLEN', listKey) > 0 then redis.call('RPUSH', ring, tenant) else redis.call('SREM', ringSet, tenant) end
    if entry then
      local id = cjson.decode(entry)['data']['jobId']
      redis.call('ZADD', KEYS[3], ARGV[2], id)
      redis.call('HSET', KEYS[4], id, entry)
      popped[#popped + 1] = entry
      room = room - 1
    end
  end
end
return popped
`;

export interface FairQueue {
  /** Puts accepted jobs in their tenants' waiting lists (records must already exist). */
  admit(entries: readonly FairEntry[]): Promise<void>;
  /** One dispatch round: fills the `images` queue's window fairly; returns how many moved. */
  dispatch(): Promise<number>;
  /** Adds jobs popped more than `olderThanMs` ago that BullMQ may not have (a dispatcher died). */
  sweep(olderThanMs?: number): Promise<number>;
  /** Jobs still waiting in the fair lists (not yet in BullMQ). */
  waiting(): Promise<number>;
  /** The same by priority class, in one round trip per class (metrics read it at every scrape). */
  waitingByClass(): Promise<Record<Priority, number>>;
}

export function createFairQueue(
  redis: Redis,
  queue: ImagesQueue,
  options: { window: number; now?: () => number },
): FairQueue {
  const now = options.now ?? Date.now;
  const toBullMq = async (entries: FairEntry[]) => {
    if (entries.length === 0) return;
    await enqueueImageJobs(queue, entries);
    const ids = entries.map((entry) => entry.data.jobId);
    await redis
      .multi()
      .zrem(k.transit, ...ids)
      .hdel(k.transitData, ...ids)
      .exec();
  };
  const fair: FairQueue = {
    async admit(entries) {
      const byList = new Map<string, FairEntry[]>();
      for (const entry of entries) {
        const key = `${entry.priority}\u0000${entry.data.tenant}`;
        const group = byList.get(key);
        if (group) group.push(entry);
        else byList.set(key, [entry]);
      }
      for (const group of byList.values()) {
        const { priority, data } = group[0]!;
        for (let start = 0; start < group.length; start += 1_000) {
          const chunk = group.slice(start, start + 1_000).map((entry) => JSON.stringify(entry));
          await redis.eval(
            ADMIT,
            3,
            k.jobs(priority, data.tenant),
            k.ring(priority),
            k.ringSet(priority),
            data.tenant,
            ...chunk,
          );
        }
      }
    },
    async dispatch() {
      // A round pops at most `window` jobs, so only the first `window` tenants of a ring can be reached.
      const heads = await redis
        .multi(CLASSES.map((cls) => ['lrange', k.ring(cls), '0', String(options.window - 1)]))
        .exec();
      const keys: string[] = [k.wait, k.prioritized, k.transit, k.transitData];
      const args: string[] = [String(options.window), String(now())];
      CLASSES.forEach((cls, index) => {
        const tenants = [...new Set((heads?.[index]?.[1] as string[] | undefined) ?? [])];
        keys.push(k.ring(cls), k.ringSet(cls), ...tenants.map((tenant) => k.jobs(cls, tenant)));
        args.push(String(tenants.length), ...tenants);
      });
      const popped = ((await redis.eval(DISPATCH, keys.length, ...keys, ...args)) as string[]).map(
        (entry) => JSON.parse(entry) as FairEntry,
      );
      if (popped.length === 0) return 0;
      // Jobs canceled while they waited stay out of BullMQ (checked here: their hashes are not KEYS).
      const statuses = await redis
        .pipeline(popped.map((entry) => ['hget', storeKeys.job(entry.data.jobId), 'status']))
        .exec();
      const queued = popped.filter((_, i) => statuses?.[i]?.[1] === '"queued"');
      const gone = popped.filter((_, i) => statuses?.[i]?.[1] !== '"queued"').map((e) => e.data.jobId);
      if (gone.length > 0) {
        await redis
          .multi()
          .zrem(k.transit, ...gone)
          .hdel(k.transitData, ...gone)
          .exec();
      }
      await toBullMq(queued);
      return queued.length;
    },
    async sweep(olderThanMs = 30_000) {
      const stale = await redis.zrangebyscore(k.transit, '-inf', now() - olderThanMs);
      if (stale.length === 0) return 0;
      const entries = (await redis.hmget(k.transitData, ...stale)).filter((e): e is string => e !== null);
      await toBullMq(entries.map((entry) => JSON.parse(entry) as FairEntry));
      return entries.length;
    },
    async waiting() {
      let total = 0;
      for (const cls of CLASSES) {
        for (const tenant of await redis.lrange(k.ring(cls), 0, -1))
          total += await redis.llen(k.jobs(cls, tenant));
      }
      return total;
    },
    async waitingByClass() {
      const counts = { interactive: 0, default: 0, bulk: 0 } as Record<Priority, number>;
      for (const cls of CLASSES) {
        const tenants = await redis.lrange(k.ring(cls), 0, -1);
        if (tenants.length === 0) continue;
        const lengths = await redis.pipeline(tenants.map((tenant) => ['llen', k.jobs(cls, tenant)])).exec();
        for (const [, length] of lengths ?? []) counts[cls] += Number(length ?? 0);
      }
      return counts;
    },
  };
  return fair;
}

/** Keeps dispatching in the background: every `intervalMs`, and at once when poked. */
export function runDispatcher(
  fair: FairQueue,
  options: { intervalMs: number; onError: (err: unknown) => void },
) {
  let running = false;
  let again = false;
  const round = async () => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      // A poke during a round means more work arrived: run once more after it.
      do {
        again = false;
        await fair.dispatch();
      } while (again);
    } catch (err) {
      options.onError(err);
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void round(), options.intervalMs);
  const sweeper = setInterval(() => void fair.sweep().catch(options.onError), 10_000);
  timer.unref();
  sweeper.unref();
  return {
    poke: () => void round(),
    stop() {
      clearInterval(timer);
      clearInterval(sweeper);
    },
  };
}
