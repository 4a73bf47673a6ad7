import type { JobRecord } from '@fluxq/core';
import { jobStatsFacts } from '@fluxq/resilience';
import type { ProcessorDeps } from '../deps.js';

/**
 * Adds a job that just ended to the provider table (`GET /v1/stats`). Called once per job,
 * by whoever's update moved it to its terminal status. A failure to record is logged and
 * never fails the job: the table is a view, the job is the work.
 */
export async function recordJobStats(
  record: JobRecord,
  status: 'succeeded' | 'failed',
  completedMs: number,
  deps: Pick<ProcessorDeps, 'stats' | 'logger'>,
): Promise<void> {
  if (!deps.stats) return;
  await deps.stats
    .record(jobStatsFacts(record, status, completedMs))
    .catch((err: unknown) => deps.logger.warn({ err, jobId: record.id }, 'could not record job stats'));
}
