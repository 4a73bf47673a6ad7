import type { ImageJobData, Priority } from '@fluxq/core';
import type { Redis } from 'ioredis';
import {
  CLASSES,
  classNumber,
  positionKeys,
  scheduleKeys,
  schedulerKeys,
  tenantLeaseMember,
} from './keys.js';
import { runScript } from './scripts.js';

/** What the dispatcher hands BullMQ for a granted job. */
export interface DispatchEntry {
  data: ImageJobData;
  priority: Priority;
}

/**
 * A request for one fal slot. `lease` names the slot once granted. A `job` ticket also needs the
 * job's running-job lease of its tenant (`max_running_jobs`, checked at the grant); an `extra`
 * (a hedge, a further chunk of the same attempt) belongs to a job that holds one already.
 */
export interface Ticket {
  lease: string;
  jobId: string;
  tenant: string;
  priority: Priority;
  kind: 'job' | 'extra';
  /** Ahead of the tenant's first attempts (retries, resumes, hedges of started jobs). */
  front?: boolean;
  /** The tenant's `max_running_jobs`; unset = no limit. */
  maxRunning?: number;
  /** The tenant's DRR weight (the API sets it at accept); unset = keep the stored one (1 at first). */
  weight?: number;
  /**
   * Set for new jobs: on its grant the dispatcher hands BullMQ the job (`dispatchEntryOf`: its
   * id, tenant, running limit and priority, all from the ticket); else a waiter is woken.
   */
  dispatch?: boolean;
}

export interface GrantResult {
  /**
   * Jobs BullMQ must now get (in the transit set until then): those granted a slot, and those
   * prefetched (their ticket still waits; the worker that takes one waits for its grant).
   */
  dispatched: DispatchEntry[];
  /** Every lease granted by this call, in grant order. */
  granted: string[];
  /** Lease ids granted to waiting workers (also published on the grant channel). */
  woken: string[];
}

export interface QueuePlace {
  /** Tickets the scheduler grants before this one if nothing else arrives. */
  position: number;
  /** When it should get its slot, from the tracked grant rate; null while that is unknown. */
  estimatedStartMs: number | null;
  /** Slots granted per second, recently (exponentially decayed over 30 s). */
  grantsPerSecond: number;
  /** fal slots in all (FAL_MAX_CONCURRENCY as the workers stored it). */
  limit: number;
}

export interface SchedulerOptions {
  /** fal slots (FAL_MAX_CONCURRENCY); the workers set it, and a process without it uses theirs. */
  limit?: number;
  /** A slot lease not renewed within this long is taken back. @defaultValue 30_000 */
  slotLeaseMs?: number;
  /** A running-job lease not renewed within this long is taken back. @defaultValue 60_000 */
  tenantLeaseMs?: number;
  now?: () => number;
}

export interface Scheduler {
  /** Queues tickets (idempotent per lease) and grants what the free slots allow. */
  admit(tickets: readonly Ticket[]): Promise<GrantResult & { admitted: number }>;
  /** Frees slot leases and running-job leases, and grants the freed slots at once. */
  release(
    leases: readonly string[],
    running?: ReadonlyArray<{ tenant: string; jobId: string }>,
  ): Promise<GrantResult>;
  /** Takes waiting tickets out of the order (a canceled job never gets a slot); returns how many were waiting. */
  cancel(leases: readonly string[]): Promise<GrantResult & { removed: number }>;
  /** Takes back expired leases and grants free slots (the periodic safety net). */
  grant(): Promise<GrantResult>;
  /** Extends held slot leases; returns the ids no longer held. */
  renew(leases: readonly string[]): Promise<string[]>;
  /** Extends running-job leases that are still held. */
  renewRunning(running: ReadonlyArray<{ tenant: string; jobId: string }>): Promise<void>;
  /** True while `lease` holds a live slot. */
  holds(lease: string): Promise<boolean>;
  /** True while `lease`'s ticket waits in line (a prefetched job waits for its grant). */
  isWaiting(lease: string): Promise<boolean>;
  /** A waiting ticket's place in line, or null when it is not waiting (granted, canceled, unknown). */
  place(lease: string): Promise<QueuePlace | null>;
  /** The places of several tickets (a page of a job list) in one round trip, in the order of `leases`. */
  places(leases: readonly string[]): Promise<Array<QueuePlace | null>>;
  /** Live slot leases. */
  inUse(): Promise<number>;
  /** The recent grant rate (per second) and the stored limit, for estimates of work not waiting. */
  throughput(): Promise<{ grantsPerSecond: number; limit: number }>;
  /** Tickets waiting, all classes. */
  waiting(): Promise<number>;
  /** Tickets waiting per class, in one round trip. */
  waitingByClass(): Promise<Record<Priority, number>>;
  /** A tenant's live running-job leases. */
  running(tenant: string): Promise<number>;
  /** Clears the transit entries of jobs BullMQ now has. */
  delivered(jobIds: readonly string[]): Promise<void>;
  /** Transit entries older than `olderThanMs` (a dispatcher died between grant and add). */
  stranded(olderThanMs: number): Promise<DispatchEntry[]>;
}

type Reply = [string[], string[], number, string[]];
type PositionReply = [number, number, string, string, number] | null;

/**
 * A dispatch entry as the script returns it: `"<job>\0<tenant>\0<class>\0<max running>"`, or the
 * JSON payload of a ticket admitted before that form.
 */
export function parseDispatchEntry(entry: string): DispatchEntry {
  if (entry.startsWith('{')) return JSON.parse(entry) as DispatchEntry;
  const [jobId, tenant, cls, maxRunning] = entry.split('\0') as [string, string, string, string];
  return {
    data: { jobId, tenant, ...(maxRunning === '' ? {} : { maxRunning: Number(maxRunning) }) },
    priority: CLASSES[Number(cls) - 1]!,
  };
}

/** The decayed grant rate read at `nowMs` (the script stores it with the time of its last grant). */
export function decayedRate(value: number, atMs: number, nowMs: number): number {
  return value * Math.exp(-Math.max(0, nowMs - atMs) / 30_000);
}

/** A position script reply as a place: the ticket's position and when it should start. */
function placeOf(reply: PositionReply, nowMs: number): QueuePlace | null {
  if (!reply) return null;
  const [position, free, v, t, limit] = reply;
  const grantsPerSecond = decayedRate(Number(v), Number(t), nowMs);
  // Free slots would take it at once; otherwise the tickets ahead go at the grant rate.
  const ahead = position + 1 - free;
  const estimatedStartMs =
    ahead <= 0 ? nowMs : grantsPerSecond > 0 ? Math.round(nowMs + (ahead / grantsPerSecond) * 1000) : null;
  return { position, estimatedStartMs, grantsPerSecond, limit };
}

export function createScheduler(redis: Redis, options: SchedulerOptions = {}): Scheduler {
  const now = options.now ?? Date.now;
  const slotLeaseMs = options.slotLeaseMs ?? 30_000;
  const tenantLeaseMs = options.tenantLeaseMs ?? 60_000;
  const run = async (op: string, args: string[]) => {
    const [dispatched, woken, result, granted] = await runScript<Reply>(redis, 'schedule', scheduleKeys, [
      op,
      String(Math.floor(now())),
      options.limit === undefined ? '' : String(options.limit),
      String(slotLeaseMs),
      String(tenantLeaseMs),
      schedulerKeys.granted,
      ...args,
    ]);
    return {
      dispatched: dispatched.map(parseDispatchEntry),
      woken,
      result,
      granted,
    };
  };

  const positionOf = (lease: string, nowMs: number) =>
    runScript<PositionReply>(redis, 'position', positionKeys, [lease, String(nowMs)]);

  const waitingByClass = async () => {
    const counts = await redis.multi(CLASSES.map((c) => ['zcard', schedulerKeys.wait(c)])).exec();
    return Object.fromEntries(CLASSES.map((c, i) => [c, Number(counts?.[i]?.[1] ?? 0)])) as Record<
      Priority,
      number
    >;
  };

  return {
    async admit(tickets) {
      const args: string[] = [];
      for (const t of tickets) {
        args.push(
          t.lease,
          t.jobId,
          String(classNumber(t.priority)),
          t.tenant,
          t.kind,
          t.front ? '1' : '0',
          t.maxRunning === undefined ? '' : String(t.maxRunning),
          t.weight === undefined ? '' : String(t.weight),
          t.dispatch ? '1' : '',
        );
      }
      const { result, ...granted } = await run('admit', args);
      return { ...granted, admitted: result };
    },
    async release(leases, running = []) {
      const { result: _, ...granted } = await run('release', [
        String(leases.length),
        ...leases,
        ...running.map((r) => tenantLeaseMember(r.tenant, r.jobId)),
      ]);
      return granted;
    },
    async cancel(leases) {
      const { result, ...granted } = await run('cancel', [...leases]);
      return { ...granted, removed: result };
    },
    async grant() {
      const { result: _, ...granted } = await run('grant', []);
      return granted;
    },
    async renew(leases) {
      if (leases.length === 0) return [];
      return runScript<string[]>(
        redis,
        'leaseRenew',
        [schedulerKeys.slots],
        [String(Math.floor(now()) + slotLeaseMs), ...leases],
      );
    },
    async renewRunning(running) {
      if (running.length === 0) return;
      await runScript<string[]>(
        redis,
        'leaseRenew',
        [schedulerKeys.tenantLeases],
        [
          String(Math.floor(now()) + tenantLeaseMs),
          ...running.map((r) => tenantLeaseMember(r.tenant, r.jobId)),
        ],
      );
    },
    async isWaiting(lease) {
      return (await redis.hexists(schedulerKeys.tickets, lease)) === 1;
    },
    async holds(lease) {
      const expiry = await redis.zscore(schedulerKeys.slots, lease);
      return expiry !== null && Number(expiry) > now();
    },
    async place(lease) {
      const nowMs = Math.floor(now());
      return placeOf(await positionOf(lease, nowMs), nowMs);
    },
    async places(leases) {
      const nowMs = Math.floor(now());
      // Sent together, without waiting for each reply: one round trip, as a pipeline.
      const replies = await Promise.all(leases.map((lease) => positionOf(lease, nowMs)));
      return replies.map((reply) => placeOf(reply, nowMs));
    },
    async throughput() {
      const [[, rate], [, limit]] = ((await redis
        .multi()
        .hmget(schedulerKeys.rate, 'v', 't')
        .get(schedulerKeys.limit)
        .exec()) ?? [
        [null, []],
        [null, null],
      ]) as [[unknown, (string | null)[]], [unknown, string | null]];
      const nowMs = now();
      return {
        grantsPerSecond: decayedRate(Number(rate[0] ?? 0), Number(rate[1] ?? nowMs), nowMs),
        limit: Number(limit ?? 0),
      };
    },
    async inUse() {
      return redis.zcount(schedulerKeys.slots, `(${Math.floor(now())}`, '+inf');
    },
    waitingByClass,
    async waiting() {
      const counts = await waitingByClass();
      return counts.interactive + counts.default + counts.bulk;
    },
    async running(tenant) {
      return Number((await redis.hget(schedulerKeys.tenantRunning, tenant)) ?? 0);
    },
    async delivered(jobIds) {
      if (jobIds.length === 0) return;
      await redis
        .multi()
        .zrem(schedulerKeys.transit, ...jobIds)
        .hdel(schedulerKeys.transitData, ...jobIds)
        .exec();
    },
    async stranded(olderThanMs) {
      const stale = await redis.zrangebyscore(schedulerKeys.transit, '-inf', now() - olderThanMs);
      if (stale.length === 0) return [];
      const entries = await redis.hmget(schedulerKeys.transitData, ...stale);
      return entries.filter((e): e is string => e !== null).map(parseDispatchEntry);
    },
  };
}
