export {
  createRedis,
  isRedisUnavailableError,
  type RedisConnectionOptions,
  waitForRedis,
} from './connection.js';
export {
  claimFalWebhook,
  createFalCompletionListener,
  FAL_COMPLETIONS_CHANNEL,
  type FalCompletion,
  type FalCompletionListener,
  type FalCompletionListenerOptions,
  type FalCompletionStatus,
  falWebhookKey,
  publishFalCompletion,
  releaseFalWebhook,
} from './fal-completions.js';
export {
  createImagesQueue,
  enqueueImageJob,
  type ImageQueueOptions,
  type ImagesQueue,
  imageJobOptions,
  queueReady,
} from './images-queue.js';
export { createJobStore, type JobPatch, type JobStore, type UpdateResult } from './job-store.js';
export {
  IMAGE_JOB_NAME,
  IMAGES_QUEUE,
  PRIORITY_VALUES,
  QUEUE_PREFIX,
  storeKeys,
  WEBHOOK_JOB_NAME,
  WEBHOOKS_QUEUE,
} from './names.js';
export {
  markLeftQueue,
  markQueued,
  markQueuedWithin,
  queuedCount,
  queuedJobs,
  tenantQueuedKey,
  tenantRunningLeasesKey,
} from './tenant-queue-index.js';
export {
  createWebhookDeliveryStore,
  DELIVERY_ID_PATTERN,
  type DeliveryAttempt,
  type DeliveryPatch,
  type DeliveryQuery,
  type DeliveryStatus,
  deliveryIdsFor,
  type WebhookDelivery,
  type WebhookDeliveryStore,
} from './webhook-deliveries.js';
export { createWebhookSettingsStore, type WebhookSettingsStore } from './webhook-settings.js';
export {
  createWebhooksQueue,
  type EventEmitterDeps,
  emitJobEvent,
  enqueueDelivery,
  type WebhookJobData,
  type WebhooksQueue,
} from './webhooks-queue.js';
