import type { BatchRecord } from '@fluxq/queue';
import type { ApiDeps } from './deps.js';
import { cancelJob } from './job-cancel.js';

/** Lines read (and jobs canceled concurrently) per round. */
const CANCEL_CHUNK = 500;

/**
 * `POST /v1/batches/{id}/cancel`: the batch moves to `cancelling`, then every job not yet
 * finished is canceled through the job cancel (queued ones leave the queue, running ones
 * are stopped by their worker, which cancels at fal), in chunks. Finished results are
 * kept. Each canceled job is counted by the batch's script; the count that leaves
 * nothing unfinished moves the batch to `cancelled`. A finished batch is returned as it is.
 */
export async function cancelBatch(batch: BatchRecord, deps: ApiDeps): Promise<BatchRecord> {
  const { status, transition } = await deps.batches.markCancelling(batch.id);
  if (transition === null && status !== 'cancelling') return (await deps.batches.get(batch.id)) ?? batch;
  for (let start = 0; start < batch.total; start += CANCEL_CHUNK) {
    const lines = await deps.batches.lines(batch.id, start, CANCEL_CHUNK);
    if (lines.length === 0) break;
    const records = await deps.store.getMany(lines.map((line) => line.jobId));
    await Promise.all(
      records.map((record) =>
        record && (record.status === 'queued' || record.status === 'running')
          ? cancelJob(record, deps).catch((err: unknown) =>
              deps.logger.warn({ err, jobId: record.id, batchId: batch.id }, 'could not cancel a batch job'),
            )
          : undefined,
      ),
    );
  }
  return (await deps.batches.get(batch.id)) ?? batch;
}
