/**
 * The keys of the records this package owns, under the `{fluxq}` hash tag every fluxq key
 * shares (one Redis Cluster slot). Nothing else reads or writes them: callers use the stores.
 * The strings are what Redis holds today: changing one orphans the data under the old one.
 */
const TAG = '{fluxq}';

/** A batch's keys (batch-store.ts). */
const batchKeys = {
  /** HASH of the batch's status and counts. */
  batch: (id: string) => `${TAG}:batch:${id}`,
  /** LIST of `<job id> <custom_id>` in line order. */
  lines: (id: string) => `${TAG}:batch:${id}:lines`,
  /** HASH custom_id → job id. */
  customIds: (id: string) => `${TAG}:batch:${id}:custom-ids`,
  /** SET of job ids whose terminal outcome was counted. */
  counted: (id: string) => `${TAG}:batch:${id}:counted`,
  /** ZSET of a tenant's batches, scored by creation ms. */
  tenantBatches: (tenant: string) => `${TAG}:tenant-batches:${tenant}`,
  /** ZSET of batches in `cancelling` whose jobs are still being canceled → ms the cancel began. */
  cancelling: `${TAG}:batches:cancelling`,
  /** STRING lease of the process cancelling a batch's jobs. */
  cancelLease: (id: string) => `${TAG}:batch:${id}:cancel-lease`,
};

/** A webhook delivery's keys (webhook-deliveries.ts). */
const deliveryKeys = {
  /** HASH of one delivery, one JSON value per field, with its attempt log. */
  delivery: (id: string) => `${TAG}:webhook-delivery:${id}`,
  /** ZSET of a tenant's deliveries, scored by creation ms. */
  tenant: (tenant: string) => `${TAG}:webhook-deliveries:${tenant}`,
  /** SET of a job's deliveries. */
  job: (jobId: string) => `${TAG}:job-webhooks:${jobId}`,
};

export const recordKeys = {
  /** An upload's metadata (JSON, expiring with the upload); the bytes are in blob storage. */
  upload: (id: string) => `${TAG}:upload:${id}`,
  /** A tenant's `Idempotency-Key` claim (the key hashed: clients choose it), then the job it made. */
  idempotency: (tenant: string, keyHash: string) => `${TAG}:idempotency:${tenant}:${keyHash}`,
  /** A tenant's sliding-window log of requests let through (sorted set, score = Redis time ms). */
  requestLog: (tenant: string) => `${TAG}:ratelimit:${tenant}`,
  /** What a tenant's accepted jobs cost on one UTC day (`YYYY-MM-DD`), integer micro-dollars. */
  spend: (tenant: string, day: string) => `${TAG}:spend:${tenant}:${day}`,
  /** A job's record: HASH, one JSON value per field. */
  job: (id: string) => `${TAG}:job:${id}`,
  /** ZSET of a tenant's job ids, scored by creation ms (written with the job). */
  tenantJobs: (tenant: string) => `${TAG}:tenant-jobs:${tenant}`,
  /** Pub/sub channel where the job store announces every status change (`"<id> <status>"`). */
  jobEvents: `${TAG}:job-events`,
  /** ZSET of a tenant's queued job ids, scored by creation ms (`max_queued_jobs`). */
  tenantQueued: (tenant: string) => `${TAG}:tenant-queued:${tenant}`,
  batch: batchKeys,
  webhookDelivery: deliveryKeys,
  /** HASH of a tenant's webhook settings: secrets and disabled endpoints. */
  webhookSettings: (tenant: string) => `${TAG}:webhook-tenant:${tenant}`,
  /** STRING claim of one fal request's webhook (fal redelivers: handled once). */
  falWebhook: (requestId: string) => `${TAG}:fal-webhook:${requestId}`,
};
