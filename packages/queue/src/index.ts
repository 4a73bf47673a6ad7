export {
  createRedis,
  isRedisUnavailableError,
  type RedisClient,
  type RedisConnectionOptions,
  waitForRedis,
} from './connection.js';
export {
  createFalCompletionListener,
  createFalWebhookInbox,
  FAL_COMPLETIONS_CHANNEL,
  type FalCompletion,
  type FalCompletionListener,
  type FalCompletionListenerOptions,
  type FalCompletionStatus,
  type FalWebhookInbox,
  publishFalCompletion,
} from './fal-completions.js';
export {
  createImagesQueue,
  ENQUEUE_CHUNK,
  enqueueImageJob,
  enqueueImageJobs,
  type ImageQueueOptions,
  type ImagesQueue,
  imageJobOptions,
  imageQueueOptionsOf,
  queueReady,
} from './images-queue.js';
export { createJobEvents, type JobEvents } from './job-events.js';
export { createJobStatusFeed, type JobStatusFeed, type JobStatusListener } from './job-status-feed.js';
export { type BatchOutcomeDeps, countBatchOutcome } from './lifecycle/batch-outcome.js';
export * from './lifecycle/index.js';
export {
  IMAGE_JOB_NAME,
  IMAGES_QUEUE,
  PRIORITY_VALUES,
  QUEUE_PREFIX,
  WEBHOOK_JOB_NAME,
  WEBHOOKS_QUEUE,
} from './names.js';
export {
  describeRedisTarget,
  type HostPort,
  parseHostPorts,
  type RedisAuth,
  type RedisTarget,
  RedisTargetError,
  redisTargetFromEnv,
} from './redis-target.js';
export { clusterKeySlot, waitForReplica } from './replica-ack.js';
export * from './scheduler/index.js';
export {
  createWebhooksQueue,
  type EventEmitterDeps,
  emitBatchEvent,
  emitJobEvent,
  enqueueDelivery,
  type WebhookJobData,
  type WebhooksQueue,
} from './webhooks-queue.js';
