import { FluxqError } from '@fluxq/core';
import type { ApiDeps } from '../../deps.js';

/**
 * A job whose record has not appeared this long after it was indexed as queued was never
 * accepted (its API process died between the two writes): its place is taken back.
 */
const UNRECORDED_GRACE_MS = 60_000;

/** A place in the tenant's queued jobs, taken at accept; `leave` gives it back. */
export interface QueuedPlace {
  leave(): Promise<void>;
}

/**
 * Takes back places of jobs that are no longer queued although the index says so (a
 * worker died between starting a job and leaving the index, a job failed or expired
 * while queued). Only run when the tenant looks full, so a normal submit costs one call.
 */
export async function pruneStale(
  deps: Pick<ApiDeps, 'queued' | 'store' | 'now'>,
  tenant: string,
): Promise<number> {
  const indexed = await deps.queued.jobs(tenant);
  const records = await deps.store.getMany(indexed.map((entry) => entry.jobId));
  let pruned = 0;
  for (const [i, entry] of indexed.entries()) {
    const record = records[i];
    const stale = record ? record.status !== 'queued' : entry.ms < deps.now() - UNRECORDED_GRACE_MS;
    if (!stale) continue;
    await deps.queued.leave(tenant, entry.jobId);
    pruned++;
  }
  return pruned;
}

/**
 * Counts `jobId` among the tenant's queued jobs, or refuses with a 429
 * `queued_limit_reached` when the tenant already has `max_queued_jobs` waiting to start.
 * Every tenant's queued jobs are indexed, limited or not, so usage can report them.
 */
export async function enterQueue(
  deps: Pick<ApiDeps, 'queued' | 'store' | 'tenants' | 'now'>,
  tenant: string,
  jobId: string,
  createdMs: number,
): Promise<QueuedPlace> {
  const place: QueuedPlace = { leave: () => deps.queued.leave(tenant, jobId) };
  const limit = deps.tenants.limitsOf(tenant).maxQueuedJobs;
  if (limit === null) {
    await deps.queued.mark(tenant, jobId, createdMs);
    return place;
  }
  if (await deps.queued.markWithin(tenant, jobId, createdMs, limit)) return place;
  if (
    (await pruneStale(deps, tenant)) > 0 &&
    (await deps.queued.markWithin(tenant, jobId, createdMs, limit))
  ) {
    return place;
  }
  throw new FluxqError(
    'queued_limit_reached',
    `queued jobs limit of ${limit} reached: wait for queued jobs to start (or cancel some) before submitting more`,
  );
}
