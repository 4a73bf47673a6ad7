import { isTerminalStatus, JOB_ERROR_CODES, type JobRecord, type JobStatus } from '@fluxq/core';
import { countBatchOutcome, emitJobEvent, markLeftQueue } from '@fluxq/queue';
import type { ApiDeps } from './deps.js';

/** What cancelling a job touches. */
export type JobCancelDeps = Pick<
  ApiDeps,
  'store' | 'redis' | 'queue' | 'fair' | 'scheduler' | 'webhooks' | 'batches' | 'logger' | 'now'
>;

/**
 * `POST /v1/jobs/{id}/cancel`. A queued job is marked canceled and leaves the scheduler's
 * order at once (it never takes a fal slot); a running one is marked canceled and its worker, which hears the status change at
 * once (the job status feed), cancels its fal requests and stops. Status changes go through the store's
 * guarded update, so a job that finishes at the same moment keeps exactly one outcome.
 * A job that already ended is returned unchanged (as OpenAI's cancel endpoints return
 * the object): the caller reads the outcome from `status`.
 */
export async function cancelJob(record: JobRecord, deps: JobCancelDeps): Promise<JobRecord> {
  let status: JobStatus = record.status;
  // queued → running can happen between our read and our write: then cancel it as running.
  for (let tries = 0; tries < 3 && !isTerminalStatus(status); tries++) {
    const nowMs = deps.now();
    const result = await deps.store.update(
      record.id,
      {
        status: 'canceled',
        error: { code: 'canceled', message: JOB_ERROR_CODES.canceled },
        completed_at: Math.floor(nowMs / 1000),
        timings: { ...record.timings, total_ms: nowMs - record.created_ms },
      },
      { ifStatusIn: [status] },
    );
    if (!result) break;
    if (result.applied) {
      if (status === 'queued') {
        await markLeftQueue(deps.redis, record.tenant, record.id);
        await leaveSchedule(record.id, deps);
      }
      await removeFromQueue(record, deps);
      await emitCanceled(record.id, deps);
      if (record.batch_id) await countCanceledInBatch(record.id, deps);
      break;
    }
    status = result.previous;
  }
  return (await deps.store.get(record.id)) ?? record;
}

/** Out of the scheduler's order; a job already granted is stopped by its worker, which frees the slot. */
async function leaveSchedule(id: string, deps: JobCancelDeps): Promise<void> {
  try {
    await deps.scheduler.cancel([id]);
  } catch (err) {
    deps.logger.warn({ err, jobId: id }, 'could not take a canceled job out of the schedule');
  }
}

/**
 * Takes the canceled job out of BullMQ when no worker holds it (waiting, or delayed
 * between attempts). A worker that has just locked it finds the job canceled and stops
 * on its own, so a refusal here is fine.
 */
async function removeFromQueue(record: JobRecord, deps: JobCancelDeps): Promise<void> {
  const id = record.id;
  try {
    const removed = await deps.queue.remove(id);
    // Granted but no worker had it yet: its fal slot goes to the next job now.
    if (removed === 1) await deps.fair.giveBack([{ jobId: id, tenant: record.tenant }]);
    if (removed === 0)
      deps.logger.debug({ jobId: id }, 'canceled job is held by a worker; it will stop there');
  } catch (err) {
    deps.logger.warn({ err, jobId: id }, 'could not remove a canceled job from the queue');
  }
}

/** `job.canceled` for the job's webhook; a failure to queue it is logged, the cancel stands. */
async function emitCanceled(id: string, deps: JobCancelDeps): Promise<void> {
  try {
    const canceled = await deps.store.get(id);
    if (!canceled) return;
    const { queue, deliveries } = deps.webhooks;
    await emitJobEvent({ queue, deliveries, now: deps.now }, canceled, 'job.canceled');
  } catch (err) {
    deps.logger.error({ err, jobId: id }, 'could not queue the job.canceled webhook');
  }
}

/**
 * A canceled job of a batch counts toward the batch (once); the count that leaves nothing
 * running moves a cancelling batch to `cancelled`. Logged, not thrown: the cancel stands.
 */
async function countCanceledInBatch(id: string, deps: JobCancelDeps): Promise<void> {
  try {
    const canceled = await deps.store.get(id);
    if (!canceled) return;
    const { queue, deliveries } = deps.webhooks;
    await countBatchOutcome({ queue, deliveries, batches: deps.batches, now: deps.now }, canceled);
  } catch (err) {
    deps.logger.error({ err, jobId: id }, 'could not count a canceled batch job');
  }
}
