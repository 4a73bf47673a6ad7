/** Queue, job and key names shared by the API and the workers. */

/** BullMQ prefix; the braces make it a Redis Cluster hash tag so every queue key lands in one slot. */
export const QUEUE_PREFIX = '{fluxq}';
/** All image work (generations and edits). */
export const IMAGES_QUEUE = 'images';
/** Job name of one image request in the `images` queue. */
export const IMAGE_JOB_NAME = 'image';
/** Webhook deliveries, independent of image work (DESIGN §7). */
export const WEBHOOKS_QUEUE = 'webhooks';
export const WEBHOOK_JOB_NAME = 'deliver';

/** BullMQ priorities (lower runs first). */
export const PRIORITY_VALUES = { interactive: 1, default: 5, bulk: 10 } as const;

/** Keys of the job store, under the same hash tag as the queues. */
export const storeKeys = {
  job: (id: string) => `${QUEUE_PREFIX}:job:${id}`,
  tenantJobs: (tenant: string) => `${QUEUE_PREFIX}:tenant-jobs:${tenant}`,
  /** Pub/sub channel where every job status change is announced. */
  jobEvents: `${QUEUE_PREFIX}:job-events`,
};
