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
  imagesQueueReady,
} from './images-queue.js';
export { createJobStore, type JobPatch, type JobStore, type UpdateResult } from './job-store.js';
export { IMAGE_JOB_NAME, IMAGES_QUEUE, PRIORITY_VALUES, QUEUE_PREFIX, storeKeys } from './names.js';
