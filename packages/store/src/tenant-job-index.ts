import type { Redis } from 'ioredis';
import { recordKeys } from './keys.js';
import { runScript } from './scripts.js';

/** Creation ms encoded in a job id (`job_` + 9 base-36 digits of time + random). */
const createdMsOf = (id: string) => Number.parseInt(id.slice(4, 13), 36);

/**
 * Reads of a tenant's job index (`{fluxq}:tenant-jobs:<tenant>`, scored by creation ms; the
 * job store writes it): the pages of `GET /v1/jobs` and the recent jobs the stats sample.
 */
export interface TenantJobIndex {
  /** Up to `count` ids after `after` (undefined = from the newest), newest first. */
  idsAfter(tenant: string, after: string | undefined, count: number): Promise<string[]>;
  /** How many jobs the tenant created since `sinceMs`, and the newest `limit` of their ids. */
  recent(tenant: string, sinceMs: number, limit: number): Promise<{ count: number; ids: string[] }>;
}

export function createTenantJobIndex(redis: Redis): TenantJobIndex {
  return {
    idsAfter(tenant, after, count) {
      const cursorMs = after ? String(createdMsOf(after)) : '0';
      return runScript<string[]>(
        redis,
        'tenantJobIdsAfter',
        [recordKeys.tenantJobs(tenant)],
        [after ?? '', String(count), cursorMs],
      );
    },
    async recent(tenant, sinceMs, limit) {
      const index = recordKeys.tenantJobs(tenant);
      const [count, ids] = await Promise.all([
        redis.zcount(index, sinceMs, '+inf'),
        redis.zrevrangebyscore(index, '+inf', sinceMs, 'LIMIT', 0, limit),
      ]);
      return { count, ids };
    },
  };
}
