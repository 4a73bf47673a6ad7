import type { JobRecord, Priority } from '@fluxq/core';
import type { ImagesQueue } from '../images-queue.js';
import { createAdmitCoalescer } from './admit-coalescer.js';
import { createGrantDispatcher } from './dispatcher.js';
import type { DispatchEntry, Scheduler, Ticket } from './scheduler.js';

/** A new job for the scheduler: what BullMQ gets once it is granted, and its tenant's DRR weight. */
export interface FairEntry extends DispatchEntry {
  /** The tenant's weight (`limits.weight`). @defaultValue 1 */
  weight?: number;
}

/**
 * Where accepted jobs go: they wait in the scheduler's order and enter the `images` queue only
 * when granted a fal slot (README: "Scheduling fal capacity").
 */
export interface FairQueue {
  /** Queues accepted jobs (records must already exist) and hands BullMQ those granted at once. */
  admit(entries: readonly FairEntry[]): Promise<void>;
  /** Grants free slots (expired leases included) and hands BullMQ the granted jobs; returns how many. */
  dispatch(): Promise<number>;
  /** Re-adds granted jobs a process left between the grant and BullMQ. */
  sweep(olderThanMs?: number): Promise<number>;
  /**
   * Gives back the grant of jobs taken out of BullMQ before any worker had them (canceled
   * there): their slots and running leases go to the next jobs at once.
   */
  giveBack(jobs: ReadonlyArray<{ jobId: string; tenant: string }>): Promise<void>;
  /** Jobs waiting for a slot. */
  waiting(): Promise<number>;
  /** The same by priority class, in one round trip (metrics read it at every scrape). */
  waitingByClass(): Promise<Record<Priority, number>>;
}

/** Tickets per script call when a batch is admitted (one call holds Redis for ~1 ms per 500). */
const ADMIT_CHUNK = 500;

/** The ticket of a new job: its own lease, handed to BullMQ on its grant (built from the ticket). */
function ticketOf({ data, priority, weight }: FairEntry): Ticket {
  return {
    lease: data.jobId,
    jobId: data.jobId,
    tenant: data.tenant,
    priority,
    kind: 'job',
    ...(data.maxRunning === undefined ? {} : { maxRunning: data.maxRunning }),
    ...(weight === undefined ? {} : { weight }),
    dispatch: true,
  };
}

export function createScheduledQueue(scheduler: Scheduler, queue: ImagesQueue): FairQueue {
  const dispatcher = createGrantDispatcher(scheduler, queue);
  // One job at a time (single submits): concurrent ones share a script call.
  const coalescer = createAdmitCoalescer(scheduler);
  return {
    async admit(entries) {
      if (entries.length === 1) {
        await dispatcher.deliver(await coalescer.admit(ticketOf(entries[0]!)));
        return;
      }
      for (let start = 0; start < entries.length; start += ADMIT_CHUNK) {
        const tickets = entries.slice(start, start + ADMIT_CHUNK).map(ticketOf);
        await dispatcher.deliver(await scheduler.admit(tickets));
      }
    },
    async dispatch() {
      const granted = await scheduler.grant();
      await dispatcher.deliver(granted);
      return granted.granted.length;
    },
    sweep: (olderThanMs) => dispatcher.sweep(olderThanMs),
    async giveBack(jobs) {
      if (jobs.length === 0) return;
      await dispatcher.deliver(
        await scheduler.release(
          jobs.map((job) => job.jobId),
          jobs,
        ),
      );
    },
    waiting: () => scheduler.waiting(),
    waitingByClass: () => scheduler.waitingByClass(),
  };
}

/**
 * The safety net behind the grants that admissions and releases make at once: every
 * `intervalMs` it takes back expired leases (a crashed holder's slots) and grants them, and
 * re-adds granted jobs stranded before BullMQ. It reads no job and polls for no slot.
 */
export function runGrantSweeper(
  fair: FairQueue,
  options: { intervalMs: number; onError: (err: unknown) => void },
) {
  // Once at start too: jobs admitted before any worker stored the limit wait for this.
  void fair.dispatch().catch(options.onError);
  const timer = setInterval(() => void fair.dispatch().catch(options.onError), options.intervalMs);
  const sweeper = setInterval(() => void fair.sweep().catch(options.onError), 10_000);
  timer.unref();
  sweeper.unref();
  return {
    stop() {
      clearInterval(timer);
      clearInterval(sweeper);
    },
  };
}

/**
 * The scheduler entry of an accepted job: the tenant's running-jobs limit as it was at accept
 * (held at the grant) and its DRR weight. One definition for single jobs and batches.
 */
export function fairEntryOf(
  record: Pick<JobRecord, 'id' | 'tenant' | 'priority'>,
  limits: { maxRunningJobs: number | null; weight?: number },
): FairEntry {
  const { maxRunningJobs, weight } = limits;
  return {
    data: {
      jobId: record.id,
      tenant: record.tenant,
      ...(maxRunningJobs === null ? {} : { maxRunning: maxRunningJobs }),
    },
    priority: record.priority,
    ...(weight === undefined ? {} : { weight }),
  };
}
