import { randomUUID } from 'node:crypto';
import type { JobLifecycle, Scheduler } from '@fluxq/queue';
import type { Logger } from '@fluxq/runtime';
import type { BatchRecord, BatchStore, JobStore } from '@fluxq/store';

/** What cancelling a batch's jobs touches (named here, not taken from ApiDeps, which holds the canceller). */
interface BatchCancelDeps {
  store: JobStore;
  batches: BatchStore;
  scheduler: Scheduler;
  lifecycle: JobLifecycle;
  logger: Logger;
}

/** Lines read (and jobs canceled in one script call) per round. */
const CANCEL_CHUNK = 500;

/** How long a process holds a batch's cancel without renewing it. Unit: ms. */
const LEASE_MS = 30_000;
/** How often pending cancels (their process died, or another process asked) are looked for. Unit: ms. */
const SWEEP_EVERY_MS = 5_000;

/**
 * `POST /v1/batches/{id}/cancel`: the batch moves to `cancelling` at once and the answer
 * goes back; its jobs are canceled in the background (`BatchCanceller`). A finished
 * batch is returned as it is.
 */
export async function requestBatchCancel(
  batch: BatchRecord,
  deps: { batches: BatchStore; batchCanceller: BatchCanceller },
): Promise<BatchRecord> {
  const { status } = await deps.batches.markCancelling(batch.id);
  if (status === 'cancelling') deps.batchCanceller.start(batch.id);
  return (await deps.batches.get(batch.id)) ?? batch;
}

/**
 * Cancels the jobs of batches in `cancelling`, in the background and in bounded time:
 * queued jobs 500 at a time in one script call each (status, counts, the tenant's queued
 * index, their `job.canceled` webhooks), running ones through the job cancel (their worker
 * hears it and cancels at fal). Finished results are kept. The count that leaves nothing
 * unfinished moves the batch to `cancelled`. A batch's cancel is leased, so two API
 * processes never run the same one, and one whose process died is taken up again by the
 * next sweep: a cancel that was answered is never lost.
 */
export interface BatchCanceller {
  /** Cancels the batch's jobs now, in the background (a no-op when another process does). */
  start(batchId: string): void;
  /** Cancels every pending batch's jobs; resolves when done. */
  sweep(): Promise<void>;
  /** Stops sweeping and waits for cancels in progress to end. */
  close(): Promise<void>;
}

export function createBatchCanceller(deps: BatchCancelDeps): BatchCanceller {
  const holder = randomUUID();
  const running = new Map<string, Promise<void>>();

  const cancelJobs = async (batchId: string): Promise<void> => {
    if (!(await deps.batches.leaseCancel(batchId, holder, LEASE_MS))) return;
    const renew = setInterval(() => {
      deps.batches.leaseCancel(batchId, holder, LEASE_MS).catch(() => {});
    }, LEASE_MS / 3);
    renew.unref();
    try {
      const batch = await deps.batches.get(batchId);
      if (batch?.status === 'cancelling') {
        // First out of the scheduler's order, all of them: a slot given back below must go to
        // other work, not to a job of this batch. Those in BullMQ (granted or prefetched, a few
        // times FAL_MAX_CONCURRENCY) leave it with their chunk, before the batch counts as cancelled.
        for (let start = 0; start < batch.total; start += CANCEL_CHUNK) {
          const lines = await deps.batches.lines(batchId, start, CANCEL_CHUNK);
          await deps.scheduler.cancel(lines.map((line) => line.jobId));
        }
        for (let start = 0; start < batch.total; start += CANCEL_CHUNK) {
          const lines = await deps.batches.lines(batchId, start, CANCEL_CHUNK);
          if (lines.length === 0) break;
          await cancelChunk(
            batch,
            lines.map((line) => line.jobId),
            deps,
          );
        }
      }
      await deps.batches.cancelDone(batchId);
    } finally {
      clearInterval(renew);
    }
  };

  const start = (batchId: string) => {
    if (running.has(batchId)) return;
    const run = cancelJobs(batchId)
      .catch((err: unknown) =>
        deps.logger.error({ err, batchId }, 'cancelling a batch failed; the sweep retries'),
      )
      .finally(() => running.delete(batchId));
    running.set(batchId, run);
  };

  const sweep = async () => {
    for (const batchId of await deps.batches.cancelPending(100)) start(batchId);
    await Promise.all(running.values());
  };

  const timer = setInterval(() => {
    sweep().catch((err: unknown) => deps.logger.warn({ err }, 'batch cancel sweep failed'));
  }, SWEEP_EVERY_MS);
  timer.unref();

  return {
    start,
    sweep,
    async close() {
      clearInterval(timer);
      await Promise.allSettled(running.values());
    },
  };
}

/**
 * One chunk of a batch's jobs: the queued ones in one call, the running ones one by one (their
 * worker hears the cancel and stops at fal). Both through the job lifecycle.
 */
async function cancelChunk(batch: BatchRecord, jobIds: string[], deps: BatchCancelDeps): Promise<void> {
  const done = new Set(await deps.lifecycle.cancelQueuedOfBatch(batch, jobIds));
  const rest = jobIds.filter((id) => !done.has(id));
  const statuses = await deps.store.statuses(rest);
  const runningIds = rest.filter((_, index) => statuses[index] === 'running');
  for (const record of await deps.store.getMany(runningIds)) {
    if (record) await deps.lifecycle.cancel(record);
  }
}
