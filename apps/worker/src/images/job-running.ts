import type { JobRecord } from '@fluxq/core';
import type { ProcessorDeps } from '../deps.js';

/**
 * `running` means fal has the job: writes a submit's request id (the record's `fal_requests` and
 * `attempt_log` as they are now) and, the first time (queued → running), moves the job to
 * `running` in the same update: the job lifecycle stamps `started_at`, leaves the tenant's queued
 * index and emits `job.started`. A job not queued (running already: a further chunk, a hedge, a
 * later attempt; or canceled meanwhile) gets the request id written on its own, so a cancel can
 * still reach the request at fal.
 */
export async function recordSubmitAtFal(
  record: JobRecord,
  deps: Pick<ProcessorDeps, 'lifecycle' | 'store'>,
): Promise<void> {
  // Read when each write is sent, not before: of concurrent chunks' writes the last one sent
  // holds every request.
  const submitted = () => ({ fal_requests: record.fal_requests, attempt_log: record.attempt_log });
  if (await deps.lifecycle.start(record, submitted())) return;
  await deps.store.update(record.id, submitted());
}
