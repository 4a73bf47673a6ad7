import { type JobRecord, unixSeconds } from '@fluxq/core';
import type { ProcessorDeps } from './deps.js';
import { emitStored } from './job-webhook-events.js';

/**
 * `running` means fal has the job: called once a submit's request id is on the record. The
 * first time (queued → running) it stamps `started_at`, leaves the tenant's queued index and
 * emits `job.started`; a job already running (a further chunk, a hedge, a later attempt) is left as it is.
 */
export async function markRunningAtFal(record: JobRecord, deps: ProcessorDeps): Promise<void> {
  if (record.status === 'running') return;
  const startedAt = unixSeconds(deps.now());
  const started = await deps.store.update(
    record.id,
    { status: 'running', started_at: startedAt },
    { ifStatusIn: ['queued'] },
  );
  if (!started?.applied) return;
  record.status = 'running';
  record.started_at = startedAt;
  await deps.leftQueue(record.tenant, record.id);
  await emitStored(record.id, 'job.started', deps);
}
