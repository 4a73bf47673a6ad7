import type { JobRecord } from '@fluxq/core';
import type { Logger } from '@fluxq/runtime';
import { type BatchStore, type JobStore, markLeftQueueMany } from '@fluxq/store';
import type { Redis } from 'ioredis';
import type { ImagesQueue } from '../images-queue.js';
import type { FairQueue } from '../scheduler/scheduled-queue.js';
import type { Scheduler } from '../scheduler/scheduler.js';
import { type EventEmitterDeps, emitJobEvent } from '../webhooks-queue.js';

type QueuedJob = Awaited<ReturnType<ImagesQueue['getJobs']>>[number];

export interface CancelQueuedDeps {
  store: JobStore;
  redis: Redis;
  batches?: BatchStore;
  scheduler: Pick<Scheduler, 'cancel'>;
  images?: { queue: Pick<ImagesQueue, 'getJobs'>; fair: Pick<FairQueue, 'giveBack'> };
  events: EventEmitterDeps;
  logger: Logger;
  now: () => number;
}

/**
 * A batch's still-queued jobs canceled in one script call, with a single cancel's effects: out of
 * the queued index and the scheduler's order; those BullMQ holds (granted or prefetched) taken out
 * and their slots given back, before they count toward the batch, so a batch that reads
 * `cancelled` has nothing canceled left queued; then their `job.canceled` events.
 */
export async function cancelQueuedJobs(
  deps: CancelQueuedDeps,
  batch: Pick<JobRecord, 'tenant'> & { id: string },
  ids: readonly string[],
): Promise<string[]> {
  const canceled = await deps.store.cancelQueued(ids, deps.now());
  const canceledIds = canceled.map((job) => job.id);
  if (canceledIds.length === 0) return [];
  await markLeftQueueMany(deps.redis, batch.tenant, canceledIds);
  await deps.scheduler.cancel(canceledIds);
  // A worker that took a granted one would find it canceled and drop it, but it would hold its
  // fal slot meanwhile. Those removed give their slot back.
  await removeFromQueue(new Set(canceledIds), deps);
  await deps.batches?.recordOutcomes(batch.id, canceledIds, 'canceled');
  const withWebhook = canceled.filter((job) => job.webhook).map((job) => job.id);
  for (const record of await deps.store.getMany(withWebhook)) {
    if (record) await emitJobEvent(deps.events, record, 'job.canceled');
  }
  return canceledIds;
}

/** Removes canceled jobs that BullMQ holds (waiting in the window, or delayed); others are not there. */
async function removeFromQueue(ids: ReadonlySet<string>, deps: CancelQueuedDeps) {
  if (!deps.images) return;
  const jobs = await deps.images.queue.getJobs(['waiting', 'prioritized', 'delayed']);
  const removed: Array<{ jobId: string; tenant: string }> = [];
  for (const job of jobs.filter(
    (queued): queued is QueuedJob & { id: string } => !!queued.id && ids.has(queued.id),
  )) {
    if (
      await job.remove().then(
        () => true,
        () => false,
      )
    )
      removed.push({ jobId: job.id, tenant: job.data.tenant });
  }
  await deps.images.fair
    .giveBack(removed)
    .catch((err: unknown) => deps.logger.warn({ err }, 'could not give back the slots of canceled jobs'));
}
