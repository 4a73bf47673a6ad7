import type { Priority } from '@fluxq/core';
import { QUEUE_PREFIX } from '../names.js';

/** Classes in the order they are served: every interactive ticket before any default one. */
export const CLASSES: readonly Priority[] = ['interactive', 'default', 'bulk'];

/** 1-based class number the scripts use. */
export const classNumber = (priority: Priority) => CLASSES.indexOf(priority) + 1;

const p = `${QUEUE_PREFIX}:sched`;

/** Keys of the scheduler, all under the `{fluxq}` hash tag (one Redis Cluster slot). */
export const schedulerKeys = {
  /** fal slot leases (lease id → expiry ms); the same key the concurrency limiter used. */
  slots: `${QUEUE_PREFIX}:fal:slots`,
  tenantLeases: `${p}:tenant-leases`,
  tenantRunning: `${p}:tenant-running`,
  tickets: `${p}:tickets`,
  weights: `${p}:weights`,
  transit: `${p}:transit`,
  transitData: `${p}:transit-data`,
  rate: `${p}:rate`,
  seq: `${p}:seq`,
  /** FAL_MAX_CONCURRENCY as the workers set it (the API reads it). */
  limit: `${p}:limit`,
  /** Waiting job tickets handed to BullMQ ahead of their grant (prefetch). */
  prefetched: `${p}:prefetched`,
  wait: (priority: Priority) => `${p}:wait:${priority}`,
  ring: (priority: Priority) => `${p}:ring:${priority}`,
  deficit: (priority: Priority) => `${p}:deficit:${priority}`,
  /** Pub/sub channel: the lease ids granted to waiting workers, space-separated. */
  granted: `${p}:granted`,
};

/** KEYS of schedule.lua, in its order. */
export const scheduleKeys: readonly string[] = [
  schedulerKeys.slots,
  schedulerKeys.tenantLeases,
  schedulerKeys.tenantRunning,
  schedulerKeys.tickets,
  schedulerKeys.weights,
  schedulerKeys.transit,
  schedulerKeys.transitData,
  schedulerKeys.rate,
  schedulerKeys.seq,
  ...CLASSES.map(schedulerKeys.wait),
  ...CLASSES.map(schedulerKeys.ring),
  ...CLASSES.map(schedulerKeys.deficit),
  schedulerKeys.limit,
  schedulerKeys.prefetched,
];

/** KEYS of position.lua, in its order. */
export const positionKeys: readonly string[] = [
  schedulerKeys.tickets,
  schedulerKeys.weights,
  ...CLASSES.map(schedulerKeys.wait),
  ...CLASSES.map(schedulerKeys.ring),
  ...CLASSES.map(schedulerKeys.deficit),
  schedulerKeys.rate,
  schedulerKeys.slots,
  schedulerKeys.limit,
  schedulerKeys.tenantLeases,
  schedulerKeys.tenantRunning,
];

/** A running-job lease member: the tenant and the job (the tenant's leases are counted per tenant). */
export const tenantLeaseMember = (tenant: string, jobId: string) => `${tenant}\u0000${jobId}`;
