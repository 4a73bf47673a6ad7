import type { JobRecord, WebhookEventType } from '@fluxq/core';
import type { ProcessorDeps } from './deps.js';

export const TERMINAL_EVENTS = {
  succeeded: 'job.succeeded',
  failed: 'job.failed',
  canceled: 'job.canceled',
} as const;

/**
 * Emits a job's webhook event from its stored state. A failure is logged, not thrown: the
 * job's own status stands whatever happens to its webhook, and a re-run of the job
 * (stalled or retried) emits its terminal event again, which is a no-op when it exists.
 */
export async function emitStored(jobId: string, type: WebhookEventType, deps: ProcessorDeps): Promise<void> {
  try {
    const record = await deps.store.get(jobId);
    if (!record) return;
    // Batch accounting first: it does not depend on the job having a webhook.
    if (type !== 'job.started') await settleBatchOf(record, deps);
    if (!record.webhook?.events.includes(type)) return;
    // Only what really happened: a job canceled while it ran did not succeed or fail.
    if (type !== 'job.started' && TERMINAL_EVENTS[record.status as keyof typeof TERMINAL_EVENTS] !== type)
      return;
    await deps.emitEvent(record, type);
  } catch (err) {
    deps.logger.error({ err, jobId, type }, 'could not queue a webhook event');
  }
}

/**
 * A finished job of a batch counts toward the batch (once, however often it is reported);
 * the count that finishes the batch emits `batch.completed`. Logged, never thrown.
 */
export async function settleBatchOf(record: JobRecord, deps: ProcessorDeps): Promise<void> {
  if (!record.batch_id || !deps.settleBatch) return;
  try {
    await deps.settleBatch(record);
  } catch (err) {
    deps.logger.error({ err, jobId: record.id, batchId: record.batch_id }, 'could not count a batch job');
  }
}
