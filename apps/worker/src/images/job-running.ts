import type { JobRecord } from '@fluxq/core';
import type { ProcessorDeps } from '../deps.js';

/**
 * `running` means fal has the job: called once a submit's request id is on the record. The
 * first time (queued → running) the job lifecycle stamps `started_at`, leaves the tenant's queued
 * index and emits `job.started`; a job already running (a further chunk, a hedge, a later attempt)
 * is left as it is.
 */
export async function markRunningAtFal(
  record: JobRecord,
  deps: Pick<ProcessorDeps, 'lifecycle'>,
): Promise<void> {
  await deps.lifecycle.start(record);
}
