import {
  type Dimensions,
  FluxqError,
  type ImageInput,
  type JobRecord,
  knownOutputSize,
  newId,
  normalizeImageRequest,
  priceRequest,
  type StoredInput,
} from '@fluxq/core';
import { storeInputImage } from '@fluxq/images';
import { enqueueImageJob } from '@fluxq/queue';
import type { ApiDeps } from './deps.js';
import { parseMetadata } from './job-options.js';

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
    if (!input.url.startsWith('https:') && !deps.settings.allowHttpImageUrls) {
      throw new FluxqError('invalid_image_url', `${param}: image URLs must use https`, { param: 'images' });
    }
    return { kind: 'url', url: input.url };
  }
  if (input.kind === 'upload') {
    throw new FluxqError(
      'invalid_image',
      `${param}: upload ids are not accepted yet; send a data: URI or an https URL`,
      {
        param: 'images',
      },
    );
  }
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
 */
export async function acceptImageJob(raw: unknown, tenant: string, deps: ApiDeps): Promise<JobRecord> {
  const request = normalizeImageRequest(raw);
  const body = raw as Record<string, unknown>;
  const metadata = parseMetadata(body.metadata);
  const nowMs = deps.now();
  const id = newId('job', nowMs);

  const images: StoredInput[] = [];
  for (const [index, input] of request.images.entries())
    images.push(await storeInput(input, index, tenant, id, deps));
  const first = images[0];
  const firstDims: Dimensions | undefined =
    first?.kind === 'stored' ? { width: first.width, height: first.height } : undefined;
  const size = knownOutputSize(request, firstDims);
  const references = images.map((image) =>
    image.kind === 'stored' ? { width: image.width, height: image.height } : undefined,
  );

  const { model, operation, priority, images: _unstored, ...params } = request;
  const record: JobRecord = {
    id,
    tenant,
    status: 'queued',
    model,
    operation,
    priority,
    created_at: Math.floor(nowMs / 1000),
    started_at: null,
    completed_at: null,
    input: {
      ...params,
      images,
      size: size ? `${size.width}x${size.height}` : null,
      width: size?.width ?? null,
      height: size?.height ?? null,
    },
    output: null,
    error: null,
    attempts: 0,
    batch_id: null,
    metadata,
    timings: { queue_ms: null, provider_ms: null, total_ms: null },
    // A quote until the worker knows every input's size; then the final price.
    cost: priceRequest({
      model: request.model,
      references,
      output: size ?? { width: 1024, height: 1024 },
      n: request.n,
    }),
    fal_requests: [],
    fal_input_urls: [],
    created_ms: nowMs,
    started_ms: null,
  };

  await deps.store.create(record);
  try {
    await enqueueImageJob(deps.queue, { jobId: id, tenant }, request.priority);
  } catch (err) {
    // Not enqueued means not accepted: leave no record that would never run.
    await deps.store.delete(id, tenant).catch(() => {});
    throw err;
  }
  return record;
}
