import {
  type Dimensions,
  FluxqError,
  type ImageInput,
  type JobRecord,
  type JobWebhook,
  type NormalizedRequest,
  newId,
  newIds,
  newJobRecord,
  normalizeImageRequest,
  PRIORITIES,
  type Priority,
  type StoredInput,
} from '@fluxq/core';
import { type PreparedImage, prepareInputImage } from '@fluxq/images';
import { emitBatchEvent, fairEntryOf } from '@fluxq/queue';
import { inputKey } from '@fluxq/storage';
import type { BatchRecord } from '@fluxq/store';
import type { ApiDeps } from '../deps.js';
import { pruneStale } from '../tenants/limits/queued-limit.js';
import { reserveSpend, type SpendReservation, toMicroUsd } from '../tenants/limits/spend-cap.js';
import {
  BATCH_URLS,
  type BatchLineError,
  type BatchRequestLine,
  BatchValidationError,
  EMPTY_BATCH_ERROR,
  MAX_LISTED_ERRORS,
  type ParsedBatch,
} from './batch-input.js';
import { confirmReplicated, dispatchNow } from './dispatch.js';
import { checkImageUrl, resolveUpload, sizeAndCost } from './job-inputs.js';
import { parseMetadata } from './job-metadata.js';
import { parseJobWebhook } from './job-webhook.js';

/**
 * `POST /v1/batches` after parsing: every line goes through the same normalizer and rules
 * as `POST /v1/jobs` (parameters, metadata, webhook, input images) and nothing is stored
 * or enqueued unless all of them pass. Then the tenant's limits are applied to the whole
 * batch (its size against `max_queued_jobs`, its total price as one spend reservation),
 * the records are written and the jobs enqueued with `addBulk`, in chunks, and the batch
 * moves to `in_progress`. Anything failing on the way undoes what was written.
 */

/** A line that passed: what its job will be, with inputs still to be stored. */
interface ValidLine {
  line: BatchRequestLine;
  request: NormalizedRequest;
  priority: Priority;
  metadata: Record<string, string>;
  webhook: JobWebhook | null;
  /** Per input: how it will be stored. Data URIs are decoded and checked here, once. */
  inputs: Array<
    | { kind: 'stored'; stored: Extract<StoredInput, { kind: 'stored' }> }
    | { kind: 'url'; url: string }
    | { kind: 'data'; prepared: PreparedImage }
  >;
}

const isPriority = (value: unknown): value is Priority =>
  typeof value === 'string' && (PRIORITIES as readonly string[]).includes(value);

/** Looks-ups shared by all lines of a batch: one DNS check per URL, one read per upload. */
class LineContext {
  private readonly urls = new Map<string, Promise<void>>();
  private readonly uploads = new Map<string, ReturnType<typeof resolveUpload>>();
  private readonly webhooks = new Map<string, Promise<JobWebhook | null>>();

  constructor(
    private readonly tenant: string,
    private readonly deps: ApiDeps,
  ) {}

  webhook(body: Record<string, unknown>) {
    const key = JSON.stringify([body.webhook_url ?? null, body.webhook_events ?? null]);
    let found = this.webhooks.get(key);
    if (!found) {
      found = parseJobWebhook(body, this.deps);
      this.webhooks.set(key, found);
    }
    return found;
  }

  url(url: string, param: string) {
    let found = this.urls.get(url);
    if (!found) {
      found = checkImageUrl(url, param, this.deps);
      this.urls.set(url, found);
    }
    return found;
  }

  upload(id: string, param: string) {
    let found = this.uploads.get(id);
    if (!found) {
      found = resolveUpload(id, param, this.tenant, this.deps);
      this.uploads.set(id, found);
    }
    return found;
  }
}

async function validateInput(input: ImageInput, index: number, context: LineContext, deps: ApiDeps) {
  const param = `images[${index}]`;
  if (input.kind === 'url') {
    await context.url(input.url, param);
    return { kind: 'url' as const, url: input.url };
  }
  if (input.kind === 'upload')
    return { kind: 'stored' as const, stored: await context.upload(input.id, param) };
  const prepared = await prepareInputImage(
    Buffer.from(input.base64, 'base64'),
    deps.settings.inputLimits,
    'images',
  );
  return { kind: 'data' as const, prepared };
}

/** One line through the job rules; throws the line's `FluxqError`. */
async function validateLine(
  line: BatchRequestLine,
  batchPriority: Priority,
  context: LineContext,
  deps: ApiDeps,
): Promise<ValidLine> {
  const body = line.body;
  const request = normalizeImageRequest(body);
  if (line.url !== undefined && BATCH_URLS[line.url] !== request.operation) {
    throw request.operation === 'edit'
      ? new FluxqError('invalid_parameter', 'generations take no input images; use /v1/images/edits', {
          param: 'image',
        })
      : new FluxqError('missing_parameter', 'an edit needs at least one input image in "images"', {
          param: 'image',
        });
  }
  const metadata = parseMetadata(body.metadata);
  const webhook = await context.webhook(body);
  const inputs: ValidLine['inputs'] = [];
  for (const [index, input] of request.images.entries())
    inputs.push(await validateInput(input, index, context, deps));
  // A line's own priority wins; otherwise the batch's.
  const priority = body.priority === undefined ? batchPriority : request.priority;
  return { line, request, priority, metadata, webhook, inputs };
}

function batchOptions(parsed: ParsedBatch, deps: ApiDeps) {
  const { webhook_url: url, metadata, priority = 'bulk' } = parsed.options;
  if (!isPriority(priority)) {
    throw new FluxqError('invalid_parameter', `priority must be one of ${PRIORITIES.join(', ')}`, {
      param: 'priority',
    });
  }
  return {
    priority,
    metadata: parseMetadata(metadata),
    // The batch's webhook is checked by the same rules as a job's.
    webhook: parseJobWebhook(url === undefined ? {} : { webhook_url: url }, deps),
  };
}

/** Validates every line; throws `invalid_batch` listing the lines at fault. */
export async function validateBatch(parsed: ParsedBatch, tenant: string, deps: ApiDeps) {
  const options = batchOptions(parsed, deps);
  const webhook = await options.webhook;
  const errors: BatchLineError[] = [...parsed.errors];
  let errorCount = errors.length;
  if (errors.length === 0 && parsed.requests.length === 0) {
    // Shaped like every other bad batch, so clients read one kind of answer (issue 11).
    throw new BatchValidationError([EMPTY_BATCH_ERROR]);
  }
  const context = new LineContext(tenant, deps);
  const valid: ValidLine[] = [];
  for (const line of parsed.requests) {
    if (errors.length >= MAX_LISTED_ERRORS) break;
    try {
      valid.push(await validateLine(line, options.priority, context, deps));
    } catch (err) {
      if (!(err instanceof FluxqError)) throw err;
      errorCount++;
      errors.push({
        line: line.line,
        custom_id: line.customId,
        code: err.code,
        message: err.message,
        param: err.param,
      });
    }
  }
  if (errors.length > 0) {
    errors.sort((a, b) => a.line - b.line);
    throw new BatchValidationError(errors, errorCount);
  }
  return { valid, priority: options.priority, metadata: options.metadata, webhookUrl: webhook?.url ?? null };
}

function sizeFields(size: Dimensions | undefined) {
  return {
    size: size ? `${size.width}x${size.height}` : null,
    width: size?.width ?? null,
    height: size?.height ?? null,
  };
}

/** The job record of a line, its inputs as they will be once stored. */
function recordOf(valid: ValidLine, id: string, batchId: string, tenant: string, nowMs: number): JobRecord {
  const images: StoredInput[] = valid.inputs.map((input, index) => {
    if (input.kind === 'url') return { kind: 'url', url: input.url };
    if (input.kind === 'stored') return input.stored;
    const { prepared } = input;
    return {
      kind: 'stored',
      key: inputKey(tenant, id, index, prepared.format === 'jpeg' ? 'jpg' : prepared.format),
      width: prepared.width,
      height: prepared.height,
      content_type: prepared.contentType,
      bytes: prepared.bytes.length,
    };
  });
  const { size, cost } = sizeAndCost(
    valid.request,
    images.map((image) =>
      image.kind === 'stored' ? { width: image.width, height: image.height } : undefined,
    ),
  );
  const { model, operation, priority: _requested, images: _unstored, ...params } = valid.request;
  return newJobRecord({
    id,
    tenant,
    model,
    operation,
    priority: valid.priority,
    input: { ...params, images, ...sizeFields(size) },
    batchId,
    metadata: valid.metadata,
    webhook: valid.webhook,
    cost,
    createdMs: nowMs,
  });
}

/** Takes a place among the tenant's queued jobs for every job of the batch, or none (429). */
async function enterQueueMany(deps: ApiDeps, tenant: string, records: readonly JobRecord[]) {
  const limit = deps.tenants.limitsOf(tenant).maxQueuedJobs;
  const jobs = records.map((record) => ({ jobId: record.id, ms: record.created_ms }));
  if (await deps.queued.markManyWithin(tenant, jobs, limit)) return;
  if ((await pruneStale(deps, tenant)) > 0 && (await deps.queued.markManyWithin(tenant, jobs, limit))) return;
  throw new FluxqError(
    'queued_limit_reached',
    `queued jobs limit of ${limit} reached: this batch of ${records.length} requests does not fit; ` +
      'wait for queued jobs to start (or cancel some), or send a smaller batch',
  );
}

/** Validates, limits, stores and enqueues a parsed batch; resolves with the batch in `in_progress`. */
export async function acceptBatch(parsed: ParsedBatch, tenant: string, deps: ApiDeps): Promise<BatchRecord> {
  const { valid, priority, metadata, webhookUrl } = await validateBatch(parsed, tenant, deps);
  const nowMs = deps.now();
  const batchId = newId('batch', nowMs);
  const jobIds = newIds('job', valid.length, nowMs);
  const records = valid.map((line, index) => recordOf(line, jobIds[index]!, batchId, tenant, nowMs));
  const totalMicros = records.reduce((sum, record) => sum + toMicroUsd(record.cost.usd), 0);

  await enterQueueMany(deps, tenant, records);
  const ids = records.map((record) => record.id);
  let spend: SpendReservation | undefined;
  const storedKeys: string[] = [];
  let batchCreated = false;
  try {
    spend = await reserveSpend(deps, tenant, totalMicros / 1_000_000);
    // Data URIs are stored per job (checked above); uploads and URLs are only referenced.
    for (const [index, line] of valid.entries()) {
      for (const [position, input] of line.inputs.entries()) {
        if (input.kind !== 'data') continue;
        const image = records[index]!.input.images[position] as Extract<StoredInput, { kind: 'stored' }>;
        await deps.storage.put(image.key, input.prepared.bytes, { contentType: input.prepared.contentType });
        storedKeys.push(image.key);
      }
    }
    const batch: BatchRecord = {
      id: batchId,
      tenant,
      status: 'validating',
      priority,
      total: records.length,
      succeeded: 0,
      failed: 0,
      canceled: 0,
      cost_micros: 0,
      created_at: Math.floor(nowMs / 1000),
      completed_at: null,
      created_ms: nowMs,
      metadata,
      webhook_url: webhookUrl,
    };
    batchCreated = true;
    await deps.batches.create(
      batch,
      records.map((record, index) => ({ jobId: record.id, customId: valid[index]!.line.customId })),
    );
    // The records, then into the scheduler's order (each job enters the queue when granted a fal
    // slot); all or nothing, so on a failure only the batch and what precedes are left to undo.
    await deps.lifecycle.create(records, (record) => fairEntryOf(record, deps.tenants.limitsOf(tenant)));
  } catch (err) {
    // Not accepted: nothing of it is left behind (records, queue entries, places, spend, inputs).
    await Promise.allSettled([
      deps.queued.leaveMany(tenant, ids),
      spend?.release(),
      ...storedKeys.map((key) => deps.storage.delete(key)),
    ]);
    if (batchCreated) await deps.batches.delete(batchId, tenant).catch(() => {});
    throw err;
  }
  // Every job is queued: the batch is in progress (or already done, when its jobs all finished meanwhile).
  if ((await deps.batches.markInProgress(batchId)) === 'completed') {
    const done = await deps.batches.get(batchId);
    if (done) {
      const { queue, deliveries } = deps.webhooks;
      await emitBatchEvent({ queue, deliveries, now: deps.now }, done).catch((err: unknown) =>
        deps.logger.error({ err, batchId }, 'could not queue the batch.completed webhook'),
      );
    }
  }
  await dispatchNow(deps);
  await confirmReplicated(deps);
  const accepted = await deps.batches.get(batchId);
  if (!accepted) throw new Error(`batch ${batchId} disappeared after it was accepted`);
  return accepted;
}
