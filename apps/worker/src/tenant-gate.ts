import type { Logger } from '@fluxq/core';
import { markLeftQueue, tenantRunningLeasesKey } from '@fluxq/queue';
import { createConcurrencyLimiter } from '@fluxq/resilience';
import type { Redis } from 'ioredis';

/**
 * A tenant's `max_running_jobs` across every worker process: a job holds one of the
 * tenant's slots (a Redis lease named after the job, in `{fluxq}:tenant-running:<tenant>`)
 * for the whole of an attempt. A job that finds none free goes back to the queue for a
 * moment without spending an attempt, so a busy tenant's jobs wait and never fail. The
 * lease is renewed while the attempt runs; a worker that dies gives it back after `leaseMs`.
 * Jobs of tenants without a limit hold a lease too, so usage can count running jobs.
 */
export interface TenantGate {
  /**
   * A slot of `tenant`'s for `jobId`, or null when `maxRunning` are all taken. Without a
   * limit a slot is always given. A job holding a slot already (a re-run) keeps it.
   */
  enter(tenant: string, jobId: string, maxRunning: number | undefined): Promise<TenantSlot | null>;
  /** The job has started: it no longer counts among the tenant's queued jobs. Never throws. */
  markLeftQueue(tenant: string, jobId: string): Promise<void>;
}

export interface TenantSlot {
  /** Frees the slot and stops renewing it. Never throws; calling it again does nothing. */
  release(): Promise<void>;
}

export interface TenantGateOptions {
  logger: Logger;
  /** Lease of a running job's slot without renewal. Unit: milliseconds. @defaultValue 60_000 */
  leaseMs?: number;
}

/** How long a job that found its tenant's slots taken waits before trying again, jittered. Unit: ms. */
export function tenantWaitMs(): number {
  return 200 + Math.random() * 500;
}

export function createTenantGate(redis: Redis, options: TenantGateOptions): TenantGate {
  const leaseMs = options.leaseMs ?? 60_000;
  const log = options.logger;
  const limiterFor = (tenant: string, limit: number) =>
    createConcurrencyLimiter(redis, { key: tenantRunningLeasesKey(tenant), limit, leaseMs });

  return {
    async enter(tenant, jobId, maxRunning) {
      const limiter = limiterFor(tenant, maxRunning ?? Number.MAX_SAFE_INTEGER);
      try {
        if (!(await limiter.tryAcquire(jobId))) return null;
      } catch (err) {
        // The gate must not fail jobs: without Redis the attempt fails on its own anyway.
        log.warn({ err, tenant, jobId }, 'tenant running-jobs gate unavailable: job runs without a slot');
        return { release: async () => {} };
      }
      const renew = setInterval(() => {
        limiter
          .renew([jobId])
          .then((lost) => {
            if (lost.length > 0) log.warn({ tenant, jobId }, 'tenant running-jobs slot lease was lost');
          })
          .catch(() => {});
      }, leaseMs / 3);
      renew.unref();
      let released = false;
      return {
        async release() {
          if (released) return;
          released = true;
          clearInterval(renew);
          // A slot not released here expires with its lease.
          await limiter
            .release(jobId)
            .catch((err: unknown) => log.warn({ err, tenant, jobId }, 'could not free a tenant slot'));
        },
      };
    },

    async markLeftQueue(tenant, jobId) {
      // An entry left behind is pruned by the API once it finds the job no longer queued.
      await markLeftQueue(redis, tenant, jobId).catch((err: unknown) =>
        log.warn({ err, tenant, jobId }, 'could not take a started job out of the queued index'),
      );
    },
  };
}
