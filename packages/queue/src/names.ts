/** Queue and job names shared by the API and the workers (the records' keys: @fluxq/store). */

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
