import type { JobRecord } from '@fluxq/core';
import type { JobStore } from '@fluxq/store';
import type { ImagesQueue } from '../images-queue.js';
import type { FairEntry, FairQueue } from '../scheduler/scheduled-queue.js';
import type { Scheduler } from '../scheduler/scheduler.js';

export interface CreateJobsDeps {
  store: JobStore;
  scheduler: Pick<Scheduler, 'cancel'>;
  images?: { queue: Pick<ImagesQueue, 'remove'>; fair: Pick<FairQueue, 'admit'> };
}

/** Records deleted, and tickets taken back, per pipeline. */
const UNDO_CHUNK = 1_000;
/** A batch's records written (and then admitted) per step. */
const CREATE_CHUNK = 1_000;

/**
 * New jobs (one, or a batch's): their records (`newJobRecord`, all of one tenant), then their
 * tickets in the scheduler's order, from where each enters the `images` queue when granted a fal
 * slot. All or nothing: when either step fails, the tickets admitted so far leave the order and
 * BullMQ and the records are deleted, so no job is left that would never run (or run without a
 * record), and the error is thrown.
 */
export async function createJobs(
  deps: CreateJobsDeps,
  records: readonly JobRecord[],
  entryOf: (record: JobRecord) => FairEntry,
): Promise<void> {
  if (!deps.images) throw new Error('creating jobs needs the images queue (JobLifecycleDeps.images)');
  if (records.length === 0) return;
  const images = deps.images;
  let admitting = false;
  try {
    if (records.length === 1) {
      await deps.store.create(records[0]!);
      admitting = true;
      await images.fair.admit([entryOf(records[0]!)]);
      return;
    }
    // A batch: chunk by chunk, each chunk's tickets admitted once its records exist, while the
    // next chunk's records are written (Redis and this process each busy with one of the two).
    let admitted: Promise<void> = Promise.resolve();
    for (let start = 0; start < records.length; start += CREATE_CHUNK) {
      const chunk = records.slice(start, start + CREATE_CHUNK);
      await Promise.all([deps.store.createMany(chunk), admitted]);
      admitting = true;
      admitted = images.fair.admit(chunk.map(entryOf));
      // Not left unhandled while the next chunk is written; awaited (and thrown) below.
      admitted.catch(() => {});
    }
    await admitted;
  } catch (err) {
    const ids = records.map((record) => record.id);
    if (admitting) await leaveQueue(deps, images, ids).catch(() => {});
    await deps.store.deleteMany(ids, records[0]?.tenant ?? '', UNDO_CHUNK).catch(() => {});
    throw err;
  }
}

async function leaveQueue(
  deps: CreateJobsDeps,
  images: NonNullable<CreateJobsDeps['images']>,
  ids: string[],
) {
  for (let start = 0; start < ids.length; start += UNDO_CHUNK) {
    const chunk = ids.slice(start, start + UNDO_CHUNK);
    await deps.scheduler.cancel(chunk).catch(() => {});
    await Promise.allSettled(chunk.map((id) => images.queue.remove(id)));
  }
}
