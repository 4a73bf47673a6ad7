export {
  BATCH_ID_PATTERN,
  type BatchLine,
  type BatchOutcome,
  type BatchRecord,
  type BatchStatus,
  type BatchStore,
  type BatchTransition,
  type BatchView,
  batchKeys,
  createBatchStore,
  viewBatch,
} from './batch-store.js';
export { claimFalWebhook, falWebhookKey, releaseFalWebhook } from './fal-webhook-claims.js';
export { createIdempotencyStore, type IdempotencyStore } from './idempotency-store.js';
export { createJobStore, type JobPatch, type JobStore, type UpdateResult } from './job-store.js';
export { recordKeys } from './keys.js';
export { createRecords, type Records } from './records.js';
export { createRequestLog, type RequestLog, type RequestLogDecision } from './request-log.js';
export { createSpendLedger, type SpendLedger } from './spend-ledger.js';
export { createTenantJobIndex, type TenantJobIndex } from './tenant-job-index.js';
export {
  createTenantQueueIndex,
  markLeftQueue,
  markLeftQueueMany,
  markQueued,
  markQueuedManyWithin,
  markQueuedWithin,
  QUEUED_ADD_MANY_COMMAND,
  queuedCount,
  queuedJobs,
  type TenantQueueIndex,
  tenantQueuedKey,
} from './tenant-queue-index.js';
export { createUploadStore, type UploadRecord, type UploadStore } from './upload-store.js';
export {
  batchDeliveryIdsFor,
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
