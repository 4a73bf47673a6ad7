import type { JobErrorCode, JobRecord } from '@fluxq/core';
import type { ProcessorDeps } from '../deps.js';
import { metricsOf } from '../metrics/metrics-of.js';
import { recordJobStats } from './record-stats.js';

/**
 * This process's report of a job that ended: the job lifecycle's `onEnded` hook (main.ts), called
 * by whichever update moved it to its terminal status, so once per job: its Prometheus series and
 * its line in the provider table (`GET /v1/stats`).
 */
export async function reportJobEnded(
  record: JobRecord,
  end: { status: 'succeeded' | 'failed'; errorCode?: JobErrorCode; completedMs: number },
  deps: Pick<ProcessorDeps, 'stats' | 'metrics' | 'logger'>,
): Promise<void> {
  metricsOf(deps).jobFinished(record, {
    status: end.status,
    errorCode: end.errorCode,
    totalMs: end.completedMs - record.created_ms,
  });
  await recordJobStats(record, end.status, end.completedMs, deps);
}
