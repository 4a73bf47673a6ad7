import {
  type JobRecord,
  type JobWebhook,
  knownOutputSize,
  newId,
  newJobRecord,
  normalizeImageRequest,
  priceRequest,
} from '@fluxq/core';
import { type createRedis, type FairQueue, fairEntryOf, type JobLifecycle } from '@fluxq/queue';
import { markQueued } from '@fluxq/store';

/** The connection type of `createRedis` (apps reach Redis only through @fluxq/queue). */
type Redis = ReturnType<typeof createRedis>;

export interface SubmitOptions {
  /** @defaultValue 'tenant-a' */
  tenant?: string;
  /** Where the job's events go; the API resolves and checks the URL first, a test gives a receiver's. */
  webhook?: JobWebhook;
}

/** What the API accepts jobs with: its job lifecycle (with the `images` queue) and scheduled queue. */
export interface AcceptDeps {
  redis: Redis;
  lifecycle: JobLifecycle;
  fair: FairQueue;
}

/**
 * Accepts a generation as `POST /v1/jobs` does once the request passed its checks: the API's
 * normalizer, `newJobRecord`, the tenant's queued index, the lifecycle's `create` (record, then
 * the scheduler's order), then a dispatch, so the job enters the `images` queue when it is
 * granted a fal slot. Input images (stored by the API's image pipeline) are not supported: the
 * harness submits generations.
 */
export async function submitGeneration(
  deps: AcceptDeps,
  raw: Record<string, unknown>,
  options: SubmitOptions = {},
): Promise<JobRecord> {
  const request = normalizeImageRequest(raw);
  if (request.images.length > 0) throw new Error('the worker harness submits generations only (no images)');
  const tenant = options.tenant ?? 'tenant-a';
  const nowMs = Date.now();
  const id = newId('job', nowMs);
  const size = knownOutputSize(request);
  const cost = priceRequest({
    model: request.model,
    references: [],
    output: size ?? { width: 1024, height: 1024 },
    n: request.n,
  });
  const { model, operation, priority, images, ...params } = request;
  const record = newJobRecord({
    id,
    tenant,
    model,
    operation,
    priority,
    input: {
      ...params,
      images: [],
      size: size ? `${size.width}x${size.height}` : null,
      width: size?.width ?? null,
      height: size?.height ?? null,
    },
    batchId: null,
    metadata: {},
    webhook: options.webhook ?? null,
    cost,
    createdMs: nowMs,
  });
  await markQueued(deps.redis, tenant, id, nowMs);
  await deps.lifecycle.create([record], (job) => fairEntryOf(job, { maxRunningJobs: null }));
  await deps.fair.dispatch();
  return record;
}
