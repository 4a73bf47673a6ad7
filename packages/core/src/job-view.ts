import { attemptTotals, viewAttemptLog } from './attempt-log.js';
import type { JobRecord, StoredInput } from './job.js';

/**
 * Turns a storage key into an expiring URL (`createFileUrls` in @fluxq/storage): the API's
 * HMAC-signed `/v1/files/…` URL on local disk, the object store's presigned GET on S3.
 */
export interface FileUrlProvider {
  url(key: string, ttlS: number): Promise<string>;
}

/** What turning a record into its API shape needs; the API and webhook deliveries share it. */
export interface ViewContext {
  fileUrls: FileUrlProvider;
  /** Lifetime of the file URLs in the view, seconds. */
  fileUrlTtlS: number;
}

async function viewInput(image: StoredInput, ctx: ViewContext) {
  if (image.kind === 'url') return { url: image.url };
  return {
    url: await ctx.fileUrls.url(image.key, ctx.fileUrlTtlS),
    width: image.width,
    height: image.height,
    content_type: image.content_type,
    bytes: image.bytes,
  };
}

/** A queued job's place in the scheduler's line (computed on read, never stored). */
export interface JobPlace {
  /** Jobs granted a fal slot before this one by the scheduling rules, if nothing else arrives. */
  position: number;
  /** When it should get its slot, from the tracked grant rate (ms); null while unknown. */
  estimatedStartMs: number | null;
}

/**
 * A job as the API shows it (DESIGN §5): storage keys become signed URLs, internals stay out.
 * `place` is the queued job's place in line; without it (webhook bodies) the fields are null.
 */
export async function viewJob(record: JobRecord, ctx: ViewContext, place?: JobPlace | null) {
  const { size_rule: _rule, images, ...input } = record.input;
  const [inputImages, outputImages] = await Promise.all([
    Promise.all(images.map((image) => viewInput(image, ctx))),
    record.output &&
      Promise.all(
        record.output.images.map(async ({ key, ...image }) => ({
          url: await ctx.fileUrls.url(key, ctx.fileUrlTtlS),
          ...image,
        })),
      ),
  ]);
  return {
    id: record.id,
    object: 'job' as const,
    status: record.status,
    model: record.model,
    operation: record.operation,
    priority: record.priority,
    created_at: record.created_at,
    started_at: record.started_at,
    completed_at: record.completed_at,
    queue_position: record.status === 'queued' ? (place?.position ?? null) : null,
    estimated_start_at:
      record.status === 'queued' && place?.estimatedStartMs != null
        ? Math.ceil(place.estimatedStartMs / 1000)
        : null,
    input: { ...input, images: inputImages },
    output: record.output && {
      images: outputImages ?? [],
      seed: record.output.seed,
      revised_prompt: record.output.revised_prompt,
    },
    error: record.error,
    attempts: record.attempts,
    batch_id: record.batch_id,
    metadata: record.metadata,
    webhook_url: record.webhook?.url ?? null,
    webhook_events: record.webhook?.events ?? null,
    timings: { ...record.timings, ...attemptTotals(record.attempt_log ?? []) },
    attempt_log: viewAttemptLog(record.attempt_log ?? [], record.created_ms),
    cost: record.cost,
  };
}

export type JobView = Awaited<ReturnType<typeof viewJob>>;
