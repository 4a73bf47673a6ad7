import {
  type Dimensions,
  type ImageInput,
  type JobRecord,
  newId,
  newJobRecord,
  normalizeImageRequest,
  type Priority,
  type StoredInput,
} from '@fluxq/core';
import { prepareInputImage, storeInputImage } from '@fluxq/images';
import { fairEntryOf } from '@fluxq/queue';
import type { ApiDeps } from '../deps.js';
import { enterQueue } from '../tenants/limits/queued-limit.js';
import { checkSpend, reserveSpend, type SpendReservation } from '../tenants/limits/spend-cap.js';
import { confirmReplicated } from './dispatch.js';
import { checkImageUrl, resolveUpload, sizeAndCost } from './job-inputs.js';
import { parseMetadata } from './job-metadata.js';
import { parseJobWebhook } from './job-webhook.js';

/**
 * Stores an input image the request carries and returns its reference. Bytes are
 * checked here (sniffed, decoded, capped at 4 MP); URLs only for syntax and scheme,
 * so a large batch is accepted without downloading thousands of images.
 */
async function storeInput(
  input: ImageInput,
  index: number,
  tenant: string,
  jobId: string,
  deps: ApiDeps,
): Promise<StoredInput> {
  const param = `images[${index}]`;
  if (input.kind === 'url') {
    await checkImageUrl(input.url, param, deps);
    return { kind: 'url', url: input.url };
  }
  // An upload is referenced, not copied: every job using it points at the one stored file.
  if (input.kind === 'upload') return resolveUpload(input.id, param, tenant, deps);
  return storeInputImage(Buffer.from(input.base64, 'base64'), {
    storage: deps.storage,
    tenant,
    jobId,
    index,
    limits: deps.settings.inputLimits,
  });
}

/**
 * Validates an image request, stores its inputs, records the job and enqueues it.
 * Throws `FluxqError` (4xx) for bad input; once this returns, the job is durable.
 * `options.priority` overrides the request's (the synchronous images endpoints run as `interactive`).
 * The tenant's limits are checked on the way: a place among its queued jobs (429
 * `queued_limit_reached`) before anything is stored, then the job's quoted price against
 * today's spend (402 `spend_limit_reached`). A request that is not accepted gives both back.
 */
export async function acceptImageJob(
  raw: unknown,
  tenant: string,
  deps: ApiDeps,
  options: { priority?: Priority } = {},
): Promise<JobRecord> {
  const request = normalizeImageRequest(raw);
  const body = raw as Record<string, unknown>;
  const metadata = parseMetadata(body.metadata);
  const webhook = await parseJobWebhook(body, deps);
  const nowMs = deps.now();
  const id = newId('job', nowMs);

  const place = await enterQueue(deps, tenant, id, nowMs);
  let spend: SpendReservation | undefined;
  const images: StoredInput[] = [];
  try {
    for (const [index, input] of request.images.entries())
      images.push(await storeInput(input, index, tenant, id, deps));
    const { size, cost } = sizeAndCost(
      request,
      images.map((image) =>
        image.kind === 'stored' ? { width: image.width, height: image.height } : undefined,
      ),
    );

    const { model, operation, priority: requested, images: _unstored, ...params } = request;
    const priority = options.priority ?? requested;
    const record = newJobRecord({
      id,
      tenant,
      model,
      operation,
      priority,
      input: { ...params, images, ...sizeFields(size) },
      batchId: null,
      metadata,
      webhook,
      cost,
      createdMs: nowMs,
    });

    spend = await reserveSpend(deps, tenant, cost.usd);
    // Its record, then into the scheduler's order (it enters the queue when granted a fal slot);
    // not enqueued means not accepted: no record is left that would never run. The admission
    // itself grants what free slots allow and hands BullMQ the granted jobs, so no separate
    // dispatch follows (it would run the same grant again).
    await deps.lifecycle.create([record], (job) => fairEntryOf(job, deps.tenants.limitsOf(tenant)));
    await confirmReplicated(deps);
    return record;
  } catch (err) {
    // Not accepted: its queued place, its spend and the inputs it stored are given back.
    await Promise.allSettled([
      place.leave(),
      spend?.release(),
      ...images.map((image, index) =>
        image.kind === 'stored' && request.images[index]?.kind === 'data'
          ? deps.storage.delete(image.key)
          : undefined,
      ),
    ]);
    throw err;
  }
}

/** One input of a quote: its size when the API can know it without fetching anything. */
type QuotedInput =
  | { source: 'data'; width: number; height: number }
  | { source: 'upload'; id: string; width: number; height: number }
  | { source: 'url'; url: string; width: null; height: null };

async function quoteInput(input: ImageInput, index: number, tenant: string, deps: ApiDeps) {
  const param = `images[${index}]`;
  if (input.kind === 'url') {
    await checkImageUrl(input.url, param, deps);
    return { source: 'url', url: input.url, width: null, height: null } satisfies QuotedInput;
  }
  if (input.kind === 'upload') {
    const { width, height } = await resolveUpload(input.id, param, tenant, deps);
    return { source: 'upload', id: input.id, width, height } satisfies QuotedInput;
  }
  // Decoded and checked exactly as a job's would be, so the sizes are right, but not stored.
  const prepared = await prepareInputImage(
    Buffer.from(input.base64, 'base64'),
    deps.settings.inputLimits,
    'images',
  );
  return { source: 'data', width: prepared.width, height: prepared.height } satisfies QuotedInput;
}

/** The output size as a job's input shows it: null until known (edits from URLs). */
function sizeFields(size: Dimensions | undefined) {
  return {
    size: size ? `${size.width}x${size.height}` : null,
    width: size?.width ?? null,
    height: size?.height ?? null,
  };
}

/**
 * What `acceptImageJob` would charge for `raw`, without storing or enqueueing anything
 * (`?dry_run=true`). The same validation runs, so a request that quotes is accepted.
 * `exact` is false when a URL input's size is unknown (counted as 1 MP, and an edit
 * without `size` priced at 1024x1024), as on a job until the worker reads its inputs.
 * `options.priority` overrides the request's, as in `acceptImageJob`.
 */
export async function quoteImageJob(
  raw: unknown,
  tenant: string,
  deps: ApiDeps,
  options: { priority?: Priority } = {},
) {
  const request = normalizeImageRequest(raw);
  parseMetadata((raw as Record<string, unknown>).metadata);
  await parseJobWebhook(raw as Record<string, unknown>, deps);
  const images: QuotedInput[] = [];
  for (const [index, input] of request.images.entries())
    images.push(await quoteInput(input, index, tenant, deps));
  const { size, cost } = sizeAndCost(
    request,
    images.map((image): Dimensions | undefined =>
      image.width === null ? undefined : { width: image.width, height: image.height },
    ),
  );
  const { model, operation, priority, images: _inputs, size_rule: _rule, ...params } = request;
  // A quote tells the truth: a price the tenant's daily spend cannot take is a 402 here too.
  await checkSpend(deps, tenant, cost.usd);
  return {
    object: 'quote' as const,
    model,
    operation,
    priority: options.priority ?? priority,
    input: {
      ...params,
      images,
      ...sizeFields(size),
    },
    cost,
    exact: size !== undefined && images.every((image) => image.width !== null),
  };
}

export type ImageJobQuote = Awaited<ReturnType<typeof quoteImageJob>>;
