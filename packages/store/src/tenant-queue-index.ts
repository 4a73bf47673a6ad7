import type { Redis } from 'ioredis';
import { recordKeys } from './keys.js';
import { runScript, SCRIPT_PREFIX } from './scripts.js';

/**
 * Which of a tenant's jobs are queued (accepted, not started yet), for the tenant's
 * `max_queued_jobs`. A sorted set of job ids (score = creation ms) rather than a counter:
 * removing an id twice, or one that is not there, changes nothing, so retries and races
 * between the worker starting a job and the API cancelling it cannot make it drift.
 *
 * The API adds a job when it accepts it; the worker removes it when it starts the job,
 * the API when it cancels a queued one.
 */
export const tenantQueuedKey = recordKeys.tenantQueued;

/** Records `jobId` as queued for `tenant` (idempotent). */
export async function markQueued(redis: Redis, tenant: string, jobId: string, ms: number): Promise<void> {
  await redis.zadd(tenantQueuedKey(tenant), ms, jobId);
}

/**
 * Records `jobId` as queued only while the tenant has fewer than `limit` queued jobs, in
 * one step (two API processes cannot both take the last place). False when it is full.
 */
export async function markQueuedWithin(
  redis: Redis,
  tenant: string,
  jobId: string,
  ms: number,
  limit: number,
): Promise<boolean> {
  const [added] = await runScript<[0 | 1, number]>(
    redis,
    'tenantQueuedAdd',
    [tenantQueuedKey(tenant)],
    [String(ms), jobId, String(limit)],
  );
  return added === 1;
}

/** The command of `markQueuedManyWithin`: two arguments per job of a batch, so never auto-pipelined. */
export const QUEUED_ADD_MANY_COMMAND = `${SCRIPT_PREFIX}_tenantQueuedAddMany`;

/**
 * Records a batch's jobs as queued, all or none: with a `limit`, only when the tenant's
 * queued jobs stay within it (one step, so two API processes cannot both overfill it).
 */
export async function markQueuedManyWithin(
  redis: Redis,
  tenant: string,
  jobs: ReadonlyArray<{ jobId: string; ms: number }>,
  limit: number | null,
): Promise<boolean> {
  const args: string[] = [limit === null ? '' : String(limit)];
  for (const job of jobs) args.push(String(job.ms), job.jobId);
  const [added] = await runScript<[0 | 1, number]>(
    redis,
    'tenantQueuedAddMany',
    [tenantQueuedKey(tenant)],
    args,
  );
  return added === 1;
}

/** Takes a batch's jobs out of the queued index (not accepted, or canceled). */
export async function markLeftQueueMany(
  redis: Redis,
  tenant: string,
  jobIds: readonly string[],
): Promise<void> {
  for (let start = 0; start < jobIds.length; start += 1_000) {
    await redis.zrem(tenantQueuedKey(tenant), ...jobIds.slice(start, start + 1_000));
  }
}

/** The job is no longer queued (started, canceled, or never accepted); a no-op when it was not. */
export async function markLeftQueue(redis: Redis, tenant: string, jobId: string): Promise<void> {
  await redis.zrem(tenantQueuedKey(tenant), jobId);
}

/** How many of the tenant's jobs are queued. */
export async function queuedCount(redis: Redis, tenant: string): Promise<number> {
  return redis.zcard(tenantQueuedKey(tenant));
}

/** The tenant's queued job ids with their creation ms, oldest first (at most `max`). */
export async function queuedJobs(
  redis: Redis,
  tenant: string,
  max = 1_000,
): Promise<Array<{ jobId: string; ms: number }>> {
  const flat = await redis.zrange(tenantQueuedKey(tenant), 0, max - 1, 'WITHSCORES');
  const jobs: Array<{ jobId: string; ms: number }> = [];
  for (let i = 0; i + 1 < flat.length; i += 2) jobs.push({ jobId: flat[i]!, ms: Number(flat[i + 1]) });
  return jobs;
}

/** The tenant queued index bound to one connection: what the API's handlers get instead of Redis. */
export interface TenantQueueIndex {
  markWithin(tenant: string, jobId: string, ms: number, limit: number): Promise<boolean>;
  mark(tenant: string, jobId: string, ms: number): Promise<void>;
  markManyWithin(
    tenant: string,
    jobs: ReadonlyArray<{ jobId: string; ms: number }>,
    limit: number | null,
  ): Promise<boolean>;
  leave(tenant: string, jobId: string): Promise<void>;
  leaveMany(tenant: string, jobIds: readonly string[]): Promise<void>;
  count(tenant: string): Promise<number>;
  jobs(tenant: string, max?: number): Promise<Array<{ jobId: string; ms: number }>>;
}

export function createTenantQueueIndex(redis: Redis): TenantQueueIndex {
  return {
    markWithin: (tenant, jobId, ms, limit) => markQueuedWithin(redis, tenant, jobId, ms, limit),
    mark: (tenant, jobId, ms) => markQueued(redis, tenant, jobId, ms),
    markManyWithin: (tenant, jobs, limit) => markQueuedManyWithin(redis, tenant, jobs, limit),
    leave: (tenant, jobId) => markLeftQueue(redis, tenant, jobId),
    leaveMany: (tenant, jobIds) => markLeftQueueMany(redis, tenant, jobIds),
    count: (tenant) => queuedCount(redis, tenant),
    jobs: (tenant, max) => queuedJobs(redis, tenant, max),
  };
}
