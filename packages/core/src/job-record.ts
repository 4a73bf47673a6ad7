import type { JobRecord } from './job.js';

/** What a new job is made of; everything else starts empty. */
export type NewJob = Pick<
  JobRecord,
  'id' | 'tenant' | 'model' | 'operation' | 'priority' | 'input' | 'metadata' | 'cost'
> & {
  batchId: string | null;
  webhook: JobRecord['webhook'];
  createdMs: number;
};

/**
 * The record of an accepted job, `queued`, as the job store keeps it: the one definition, for
 * single jobs and batch lines alike (DESIGN §6: one lifecycle, starting here).
 */
export function newJobRecord(job: NewJob): JobRecord {
  return {
    id: job.id,
    tenant: job.tenant,
    status: 'queued',
    model: job.model,
    operation: job.operation,
    priority: job.priority,
    created_at: Math.floor(job.createdMs / 1000),
    started_at: null,
    completed_at: null,
    input: job.input,
    output: null,
    error: null,
    attempts: 0,
    batch_id: job.batchId,
    metadata: job.metadata,
    webhook: job.webhook,
    timings: { queue_ms: null, provider_ms: null, total_ms: null },
    // A quote until the worker knows every input's size; then the final price.
    cost: job.cost,
    fal_requests: [],
    fal_input_urls: [],
    created_ms: job.createdMs,
    started_ms: null,
  };
}
