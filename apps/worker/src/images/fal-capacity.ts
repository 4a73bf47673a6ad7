import type { ImageJobData, JobRecord, Priority } from '@fluxq/core';
import type { GrantDispatcher, GrantResult, GrantWaiter, Scheduler, Ticket } from '@fluxq/queue';
import type { Logger } from '@fluxq/runtime';
import type { SlotKeeper } from './slot-keeper.js';

/** The job-level grant an attempt runs under: its fal slot and its tenant's running-job lease. */
export interface JobGrant {
  /** The attempt is over: frees the running lease and any slot it holds but no request uses. */
  release(): Promise<void>;
}

/** fal capacity as the scheduler grants it (packages/queue README, "Scheduling fal capacity"). */
export interface JobCapacity {
  /**
   * The job's capacity for an attempt: its slot (lease = job id) and its tenant's running-job
   * lease. A job the dispatcher granted holds both already. A prefetched one (its ticket still
   * waits in line) resolves at once: it prepares its inputs, and its first submit waits for the
   * grant. A retry or a resumed job waits here, in order, ahead of its tenant's first attempts.
   */
  enter(record: JobRecord, data: ImageJobData, signal?: AbortSignal): Promise<JobGrant>;
  /** A job that will not run here (finished or canceled meanwhile) gives back what it was granted. */
  abandon(record: Pick<JobRecord, 'id' | 'tenant'>): Promise<void>;
}

export interface FalCapacity {
  /** Request slots (further chunks, hedges, resumed requests) under their job's class and tenant. */
  slots: SlotKeeper;
  jobs: JobCapacity;
  close(): void;
}

export interface FalCapacityOptions {
  /** How often held leases are renewed (a third of the lease). Unit: ms. */
  renewEveryMs: number;
  logger: Logger;
}

/** The job a request's lease belongs to: `<job id>` or `<job id>:<chunk>:<uuid>`. */
const jobOfLease = (lease: string) => lease.split(':')[0]!;

/**
 * This process's share of fal capacity: every slot comes from the scheduler (in class, tenant
 * and FIFO order, decided in Redis), waiters are woken by the grant channel, and freeing a slot
 * grants the next job in the same script. Granted new jobs go to BullMQ at once.
 */
export function createFalCapacity(
  scheduler: Scheduler,
  waiter: GrantWaiter,
  dispatcher: GrantDispatcher,
  options: FalCapacityOptions,
): FalCapacity {
  const log = options.logger;
  const held = new Set<string>();
  const running = new Map<string, string>(); // job id → tenant, while it holds a running lease
  const bound = new Map<string, { tenant: string; priority: Priority }>();
  /** Leases this process freed and has not taken again: freeing one twice costs no script call. */
  const freed = new Set<string>();
  /** Prefetched jobs whose own grant was taken by a submit (so a request may hold it at fal). */
  const usedOwn = new Set<string>();
  const deliver = (granted: GrantResult) =>
    dispatcher
      .deliver(granted)
      .catch((err: unknown) => log.warn({ err }, 'could not hand granted jobs to the queue; the sweep will'));
  const runningOf = () => [...running].map(([jobId, tenant]) => ({ jobId, tenant }));

  const timer = setInterval(() => {
    if (held.size > 0) scheduler.renew([...held]).catch(() => {});
    if (running.size > 0) scheduler.renewRunning(runningOf()).catch(() => {});
  }, options.renewEveryMs);
  timer.unref();

  /** Queues `ticket` and resolves when its lease is granted; an abort takes it out of the order. */
  const waitFor = async (ticket: Ticket, signal: AbortSignal | undefined) => {
    // Listening before the ticket exists: a grant cannot slip between the two.
    const stop = new AbortController();
    const woken = waiter.wait(ticket.lease, signal ? AbortSignal.any([signal, stop.signal]) : stop.signal);
    woken.catch(() => {});
    try {
      const admitted = await scheduler.admit([ticket]);
      void deliver(admitted);
      if (admitted.woken.includes(ticket.lease) || (await scheduler.holds(ticket.lease))) {
        stop.abort();
        return;
      }
      await woken;
    } catch (err) {
      const canceled = await scheduler.cancel([ticket.lease]).catch(() => undefined);
      if (canceled) void deliver(canceled);
      // Granted just as we gave up: hand it to the next waiter.
      if (canceled?.removed === 0) void deliver(await scheduler.release([ticket.lease]));
      throw err;
    }
  };

  const ticketFor = (lease: string): Ticket => {
    const jobId = jobOfLease(lease);
    const job = bound.get(jobId);
    if (!job) log.warn({ lease }, 'a slot was asked for a job this process does not run');
    return {
      lease,
      jobId,
      tenant: job?.tenant ?? 'unknown',
      priority: job?.priority ?? 'default',
      kind: 'extra',
      front: true,
    };
  };

  const slots: SlotKeeper = {
    async acquire(lease, signal) {
      if (held.has(lease)) return;
      if (await scheduler.holds(lease)) {
        await scheduler.renew([lease]);
      } else {
        await waitFor(ticketFor(lease), signal);
      }
      held.add(lease);
      freed.delete(lease);
      // A prefetched job's own ticket brought its running lease with the grant.
      const job = bound.get(lease);
      if (job) {
        running.set(lease, job.tenant);
        usedOwn.add(lease);
      }
    },
    async release(lease) {
      if (!held.has(lease) && freed.has(lease)) return;
      held.delete(lease);
      freed.add(lease);
      await deliver(await scheduler.release([lease]));
    },
    forget(lease) {
      held.delete(lease);
    },
    held: () => held.size,
    inUse: () => scheduler.inUse(),
    close() {
      clearInterval(timer);
    },
  };

  const jobs: JobCapacity = {
    async enter(record, data, signal) {
      const jobId = record.id;
      bound.set(jobId, { tenant: record.tenant, priority: record.priority });
      try {
        if (await scheduler.holds(jobId)) {
          await scheduler.renew([jobId]);
        } else if (await scheduler.isWaiting(jobId)) {
          return deferredGrant(record);
        } else {
          await waitFor(
            {
              lease: jobId,
              jobId,
              tenant: record.tenant,
              priority: record.priority,
              kind: 'job',
              // Started before (a retry, a resume): ahead of the tenant's first attempts.
              front: record.attempts > 0 || record.fal_requests.length > 0,
              ...(data.maxRunning === undefined ? {} : { maxRunning: data.maxRunning }),
            },
            signal,
          );
        }
      } catch (err) {
        bound.delete(jobId);
        throw err;
      }
      held.add(jobId);
      running.set(jobId, record.tenant);
      return grantOf(record);
    },
    async abandon(record) {
      await scheduler
        .release([record.id], [{ tenant: record.tenant, jobId: record.id }])
        .then(deliver)
        .catch((err: unknown) =>
          log.warn({ err, jobId: record.id }, 'could not free a finished job’s grant'),
        );
    },
  };

  function grantOf(record: JobRecord): JobGrant {
    const jobId = record.id;
    let released = false;
    return {
      async release() {
        if (released) return;
        released = true;
        // Leases of this job still renewed here belong to no request at fal (never submitted).
        const unused = [...held].filter((lease) => jobOfLease(lease) === jobId);
        for (const lease of unused) held.delete(lease);
        for (const lease of [...freed]) if (jobOfLease(lease) === jobId) freed.delete(lease);
        const hadRunning = running.delete(jobId);
        bound.delete(jobId);
        await scheduler
          .release(unused, hadRunning ? [{ tenant: record.tenant, jobId }] : [])
          .then(deliver)
          .catch((err: unknown) =>
            log.warn({ err, jobId }, 'could not free a job’s grant; its leases expire'),
          );
      },
    };
  }

  /** A prefetched job: its ticket leaves the line if the attempt ends before its grant came. */
  function deferredGrant(record: JobRecord): JobGrant {
    const grant = grantOf(record);
    return {
      async release() {
        const jobId = record.id;
        const left = await scheduler.cancel([jobId]).catch(() => undefined);
        if (left) void deliver(left);
        // Granted just as the attempt ended, before any submit took it: the slot goes on now.
        if (left?.removed === 0 && !usedOwn.has(jobId) && (await scheduler.holds(jobId).catch(() => false))) {
          held.add(jobId);
          running.set(jobId, record.tenant);
        }
        usedOwn.delete(jobId);
        await grant.release();
      },
    };
  }

  return {
    slots,
    jobs,
    close() {
      clearInterval(timer);
    },
  };
}
