import { enqueueImageJobs, type ImagesQueue } from '../images-queue.js';
import type { GrantResult, Scheduler } from './scheduler.js';

/**
 * Hands jobs to BullMQ as the scheduler grants them their slot: the `images` queue only ever
 * holds jobs that can go to fal now (plus retries waiting out their backoff), so no worker
 * parks jobs that wait for capacity. A job is in the scheduler's transit set from its grant
 * until BullMQ has it; `sweep` re-adds those a process left there when it died in between
 * (adding twice is a no-op: the BullMQ id is the job id).
 */
export interface GrantDispatcher {
  /** Enqueues the jobs a scheduler call granted. */
  deliver(granted: Pick<GrantResult, 'dispatched'>): Promise<void>;
  /** Re-adds granted jobs left in transit longer than `olderThanMs`. */
  sweep(olderThanMs?: number): Promise<number>;
}

export function createGrantDispatcher(
  scheduler: Pick<Scheduler, 'delivered' | 'stranded'>,
  queue: ImagesQueue,
): GrantDispatcher {
  const deliver = async ({ dispatched }: Pick<GrantResult, 'dispatched'>) => {
    if (dispatched.length === 0) return;
    await enqueueImageJobs(queue, dispatched);
    await scheduler.delivered(dispatched.map((entry) => entry.data.jobId));
  };
  return {
    deliver,
    async sweep(olderThanMs = 30_000) {
      const stranded = await scheduler.stranded(olderThanMs);
      await deliver({ dispatched: stranded });
      return stranded.length;
    },
  };
}
